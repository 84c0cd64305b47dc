import type { Logger } from 'pino';
import type { MessageHandler, Subscription } from './bus';
import { BusError } from './errors';
import { MemoryMessage } from './memory-message';
import type { MemoryStream } from './memory-stream';
import { SequenceQueue } from './sequence-queue';
import { subjectMatches } from './subject-match';
import { runHandler } from './run-handler';

/** A delivery waiting for its ack. `token` tells the current delivery from earlier ones. */
interface Pending {
  readonly token: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * The in-process counterpart of a durable JetStream pull consumer: it remembers which messages it
 * still owes, delivers them to its subscribers (round robin over the ones with a free slot),
 * redelivers what is not acked within ack wait or is nak'ed, and survives its subscribers.
 *
 * Server-side semantics mirror JetStream: an ack from any delivery of a message settles it;
 * nak / working / term apply only to the current delivery; redeliveries go before new messages.
 * Dispatch runs on a microtask, never on a timer, so publish → handler costs microseconds.
 */
export class MemoryConsumer {
  /** Sequences still owed (delivered or not) → deliveries so far. */
  private readonly owed = new Map<number, number>();
  private readonly fresh = new SequenceQueue();
  private readonly redeliver = new SequenceQueue();
  private readonly pending = new Map<number, Pending>();
  private readonly nakTimers = new Set<NodeJS.Timeout>();
  private readonly subscribers: MemorySubscriber[] = [];
  private cursor = 0;
  private tokens = 0;
  private dispatchQueued = false;
  private closed = false;

  constructor(
    private readonly stream: MemoryStream,
    readonly durable: string,
    public filterSubject: string,
    public ackWaitMs: number,
    private readonly logger: Logger,
  ) {
    for (const sequence of stream.sequencesMatching(filterSubject)) this.offer(sequence);
  }

  /** A new message on a matching subject. */
  offer(sequence: number): void {
    this.owed.set(sequence, 0);
    this.fresh.push(sequence);
    this.schedule();
  }

  /** Applies a later `consume` call's settings, as a JetStream consumer update would. */
  reconfigure(filterSubject: string, ackWaitMs: number): void {
    this.ackWaitMs = ackWaitMs;
    if (filterSubject === this.filterSubject) return;
    this.filterSubject = filterSubject;
    // Owed messages outside the new filter are dropped; matching ones not yet owed are picked up.
    for (const sequence of [...this.owed.keys()]) {
      const message = this.stream.messages.get(sequence);
      if (!message || !subjectMatches(filterSubject, message.subject)) this.forget(sequence);
    }
    for (const sequence of this.stream.sequencesMatching(filterSubject)) {
      if (!this.owed.has(sequence)) this.offer(sequence);
    }
  }

  subscribe(handler: MessageHandler, maxInFlight: number, onStopped: (s: Subscription) => void): Subscription {
    const subscriber = new MemorySubscriber(this, handler, maxInFlight, this.logger, onStopped);
    this.subscribers.push(subscriber);
    this.schedule();
    return subscriber;
  }

  /** Called by a draining subscriber once its handlers are done. */
  detach(subscriber: MemorySubscriber): void {
    const index = this.subscribers.indexOf(subscriber);
    if (index !== -1) this.subscribers.splice(index, 1);
  }

  schedule(): void {
    if (this.dispatchQueued || this.closed) return;
    this.dispatchQueued = true;
    queueMicrotask(this.dispatch);
  }

  private readonly dispatch = (): void => {
    this.dispatchQueued = false;
    while (!this.closed) {
      const subscriber = this.freeSubscriber();
      if (!subscriber) return;
      const sequence = this.nextDeliverable();
      if (sequence === undefined) return;
      this.deliver(sequence, subscriber);
    }
  };

  private freeSubscriber(): MemorySubscriber | undefined {
    const count = this.subscribers.length;
    for (let i = 0; i < count; i++) {
      const index = (this.cursor + i) % count;
      const subscriber = this.subscribers[index];
      if (subscriber?.hasFreeSlot()) {
        this.cursor = index + 1;
        return subscriber;
      }
    }
    return undefined;
  }

  private nextDeliverable(): number | undefined {
    for (;;) {
      const sequence = this.redeliver.shift() ?? this.fresh.shift();
      if (sequence === undefined) return undefined;
      // Skip what was settled, or is out with a live delivery, since it was queued.
      if (this.owed.has(sequence) && !this.pending.has(sequence)) return sequence;
    }
  }

  private deliver(sequence: number, subscriber: MemorySubscriber): void {
    const stored = this.stream.messages.get(sequence);
    if (!stored) {
      this.forget(sequence);
      return;
    }
    const deliveryCount = (this.owed.get(sequence) ?? 0) + 1;
    this.owed.set(sequence, deliveryCount);
    const token = ++this.tokens;
    const timer = setTimeout(() => this.expire(sequence, token), this.ackWaitMs);
    timer.unref();
    this.pending.set(sequence, { token, timer });
    subscriber.run(new MemoryMessage(this, stored, deliveryCount, token));
  }

  private expire(sequence: number, token: number): void {
    const pending = this.pending.get(sequence);
    if (pending?.token !== token) return;
    this.pending.delete(sequence);
    this.logger.debug({ durable: this.durable, sequence }, 'ack wait expired; redelivering');
    this.redeliver.push(sequence);
    this.schedule();
  }

  /** Any delivery's ack settles the message (as JetStream acks by stream sequence). */
  ack(sequence: number): Promise<void> {
    if (this.closed) return Promise.reject(new BusError('ACK_FAILED', `ack of #${sequence} on ${this.durable} after the bus closed`));
    if (this.owed.has(sequence)) {
      this.forget(sequence);
      this.stream.settled(sequence);
    }
    return Promise.resolve();
  }

  nak(sequence: number, token: number, delayMs: number | undefined): void {
    if (!this.takePending(sequence, token)) return;
    if (delayMs === undefined || delayMs <= 0) {
      this.redeliver.push(sequence);
      this.schedule();
      return;
    }
    const timer = setTimeout(() => {
      this.nakTimers.delete(timer);
      this.redeliver.push(sequence);
      this.schedule();
    }, delayMs);
    timer.unref();
    this.nakTimers.add(timer);
  }

  working(sequence: number, token: number): void {
    const pending = this.pending.get(sequence);
    if (pending?.token === token) pending.timer.refresh();
  }

  term(sequence: number, token: number): void {
    if (!this.takePending(sequence, token)) return;
    this.forget(sequence);
    this.stream.settled(sequence);
  }

  /** Stops all timers; called by the bus after every subscriber has drained. */
  close(): void {
    this.closed = true;
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    for (const timer of this.nakTimers) clearTimeout(timer);
    this.nakTimers.clear();
  }

  private takePending(sequence: number, token: number): boolean {
    const pending = this.pending.get(sequence);
    if (pending?.token !== token) return false;
    clearTimeout(pending.timer);
    this.pending.delete(sequence);
    return true;
  }

  private forget(sequence: number): void {
    const pending = this.pending.get(sequence);
    if (pending) {
      clearTimeout(pending.timer);
      this.pending.delete(sequence);
    }
    this.owed.delete(sequence);
  }
}

/** One `consume` call on an in-process durable: runs handlers up to `maxInFlight` at once. */
export class MemorySubscriber implements Subscription {
  private active = 0;
  private draining = false;
  private drained: Promise<void> | undefined;
  private onIdle: (() => void) | undefined;

  constructor(
    private readonly consumer: MemoryConsumer,
    private readonly handler: MessageHandler,
    private readonly maxInFlight: number,
    private readonly logger: Logger,
    private readonly onStopped: (s: Subscription) => void,
  ) {}

  hasFreeSlot(): boolean {
    return !this.draining && this.active < this.maxInFlight;
  }

  run(message: MemoryMessage): void {
    this.active++;
    runHandler(this.handler, message, this.logger, () => this.release());
  }

  drain(): Promise<void> {
    this.drained ??= new Promise<void>((resolve) => {
      this.draining = true;
      const finish = () => {
        this.consumer.detach(this);
        this.onStopped(this);
        resolve();
      };
      if (this.active === 0) finish();
      else this.onIdle = finish;
    });
    return this.drained;
  }

  private release(): void {
    this.active--;
    if (this.draining) {
      if (this.active === 0) this.onIdle?.();
      return;
    }
    this.consumer.schedule();
  }
}
