import type { LogLineRecord, LogStatus } from '@skein/store';

/** Told when lines of an attempt have been committed to the store. */
export type StoredLinesListener = (lines: readonly LogLineRecord[], status: LogStatus) => void;

/**
 * Tells live tails, in process, which lines the collector just committed. Listeners are kept per
 * attempt, so a store of one attempt's lines costs nothing for the tails of others. Listeners must
 * not throw and must not block: they copy what they need and return.
 */
export class LogFeed {
  private readonly listeners = new Map<string, Set<StoredLinesListener>>();

  /** Listens to one attempt's stored lines; returns the function that stops listening. */
  subscribe(attemptId: string, listener: StoredLinesListener): () => void {
    let set = this.listeners.get(attemptId);
    if (!set) {
      set = new Set();
      this.listeners.set(attemptId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(attemptId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(attemptId);
    };
  }

  /** Called after commit with the lines of one attempt that the transaction held (maybe redelivered ones). */
  publish(attemptId: string, lines: readonly LogLineRecord[], status: LogStatus): void {
    const set = this.listeners.get(attemptId);
    if (!set) return;
    for (const listener of set) listener(lines, status);
  }

  /** How many attempts have live tails (for tests and metrics). */
  get attemptsWatched(): number {
    return this.listeners.size;
  }
}
