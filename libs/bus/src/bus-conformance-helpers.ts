import type { BusMessage, Headers } from './bus';
import { subjects } from './bus';

/* Helpers of the bus conformance suite (bus-conformance.ts). */

/** A received message, copied at handler time (text decoded) so tests can inspect it later. */
export interface Received {
  readonly subject: string;
  readonly text: string;
  readonly headers: Headers;
  readonly deliveryCount: number;
  readonly sequence: number;
}

/** Records what a handler receives and lets a test await a condition on it. */
export class Inbox {
  readonly received: Received[] = [];
  private ticks = 0;
  private inHandler = 0;
  private completed = 0;
  private readonly acks: Array<Promise<void>> = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly behaviour: (message: BusMessage) => Promise<void>) {}

  readonly handler = async (message: BusMessage): Promise<void> => {
    this.record(message);
    this.inHandler++;
    try {
      const result = this.behaviour(message);
      this.acks.push(result.catch(() => undefined));
      await result;
    } finally {
      this.inHandler--;
      this.completed++;
      this.notify();
    }
  };

  record(message: BusMessage): void {
    this.received.push({
      subject: message.subject,
      text: Buffer.from(message.data).toString(),
      headers: message.headers,
      deliveryCount: message.deliveryCount,
      sequence: message.sequence,
    });
    this.notify();
  }

  tick(): void {
    this.ticks++;
    this.notify();
  }

  texts(): string[] {
    return this.received.map((m) => m.text);
  }

  /** Waits for every handler call so far to have finished (acks included). */
  async acked(): Promise<void> {
    await Promise.all(this.acks);
  }

  handled(count: number): Promise<void> {
    return this.wait(() => this.completed >= count && this.inHandler === 0, `${count} handler call(s) to finish`);
  }

  until(predicate: (received: Received[]) => boolean, what: string): Promise<void> {
    return this.wait(() => predicate(this.received), what);
  }

  untilTicks(count: number, what: string): Promise<void> {
    return this.wait(() => this.ticks >= count, what);
  }

  private wait(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

let counter = 0;

/** Subjects and durables no other test (or earlier run against the same server) uses. */
export function testIds(): { id: string; durable: string; subject: string } {
  const id = `t${process.pid.toString(36)}${Date.now().toString(36)}${(++counter).toString(36)}`;
  return { id, durable: id, subject: subjects.dispatch(id) };
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error `promise` rejects with (fails the test if it resolves). */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
