/**
 * A FIFO of stream sequences. `Array#shift` is O(n); this keeps a read index and compacts
 * when the consumed prefix dominates, so a consumer with a long backlog stays O(1) per message.
 */
export class SequenceQueue {
  private items: number[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(sequence: number): void {
    this.items.push(sequence);
  }

  shift(): number | undefined {
    if (this.head >= this.items.length) return undefined;
    const sequence = this.items[this.head++];
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return sequence;
  }
}
