import type { BusMessage, Headers } from './bus';
import type { MemoryConsumer } from './memory-consumer';
import type { StoredMessage } from './memory-stream';

/**
 * One delivery from an in-process consumer. Like a JetStream message, the first of ack / nak /
 * term wins and later ones do nothing; `working()` may be called any number of times before that.
 */
export class MemoryMessage implements BusMessage {
  private settled = false;

  constructor(
    private readonly consumer: MemoryConsumer,
    private readonly stored: StoredMessage,
    readonly deliveryCount: number,
    private readonly token: number,
  ) {}

  get subject(): string {
    return this.stored.subject;
  }

  get data(): Uint8Array {
    return this.stored.data;
  }

  get headers(): Headers {
    return this.stored.headers;
  }

  get sequence(): number {
    return this.stored.sequence;
  }

  ack(): Promise<void> {
    if (this.settled) return Promise.resolve();
    this.settled = true;
    return this.consumer.ack(this.stored.sequence);
  }

  ackNoWait(): void {
    this.ack().catch(() => undefined);
  }

  nak(delayMs?: number): void {
    if (this.settled) return;
    this.settled = true;
    this.consumer.nak(this.stored.sequence, this.token, delayMs);
  }

  working(): void {
    if (!this.settled) this.consumer.working(this.stored.sequence, this.token);
  }

  term(): void {
    if (this.settled) return;
    this.settled = true;
    this.consumer.term(this.stored.sequence, this.token);
  }
}
