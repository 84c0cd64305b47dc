import type { LogLineRecord, LogStatus } from '@skein/store';

/** Told when lines of an attempt have been committed to the store by this collector. */
export type StoredLinesListener = (lines: readonly LogLineRecord[], status: LogStatus) => void;

/** Told when another collector replica stored lines of an attempt, up to `maxSequence` at most. */
export type StoredElsewhereListener = (maxSequence: number) => void;

interface Subscriber {
  readonly stored: StoredLinesListener;
  readonly storedElsewhere: StoredElsewhereListener | undefined;
}

/**
 * Tells live tails, in process, which lines the collector just committed — and, from the other
 * replicas' notices, that lines were stored elsewhere (the tail then reads the store). Listeners are
 * kept per attempt, so a store of one attempt's lines costs nothing for the tails of others.
 * Listeners must not throw and must not block: they copy what they need and return.
 */
export class LogFeed {
  private readonly subscribers = new Map<string, Set<Subscriber>>();

  /** Listens to one attempt's stored lines; returns the function that stops listening. */
  subscribe(attemptId: string, stored: StoredLinesListener, storedElsewhere?: StoredElsewhereListener): () => void {
    let set = this.subscribers.get(attemptId);
    if (!set) {
      set = new Set();
      this.subscribers.set(attemptId, set);
    }
    const subscriber: Subscriber = { stored, storedElsewhere };
    set.add(subscriber);
    return () => {
      const current = this.subscribers.get(attemptId);
      if (!current) return;
      current.delete(subscriber);
      if (current.size === 0) this.subscribers.delete(attemptId);
    };
  }

  /** Called after commit with the lines of one attempt that the transaction held (maybe redelivered ones). */
  publish(attemptId: string, lines: readonly LogLineRecord[], status: LogStatus): void {
    const set = this.subscribers.get(attemptId);
    if (!set) return;
    for (const subscriber of set) subscriber.stored(lines, status);
  }

  /** Called when another replica says it stored lines of the attempt. */
  publishStoredElsewhere(attemptId: string, maxSequence: number): void {
    const set = this.subscribers.get(attemptId);
    if (!set) return;
    for (const subscriber of set) subscriber.storedElsewhere?.(maxSequence);
  }

  /** How many attempts have live tails (for tests and metrics). */
  get attemptsWatched(): number {
    return this.subscribers.size;
  }
}
