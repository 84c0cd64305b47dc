import type { LogLineRecord, LogStatus, LogStore } from '@skein/store';
import { SlowReaderError } from './errors';
import type { LogFeed } from './log-feed';

/** One step of a tail: consecutive lines, or the end. */
export interface LogTailChunk {
  /** Consecutive lines following the previous chunk's, in sequence order. */
  readonly lines: LogLineRecord[];
  /**
   * Set on the last chunk. `true`: every line of the log was sent. `false`: the tail ended without
   * the whole log, because the store flagged lines as missing (a gap).
   */
  readonly end?: { readonly complete: boolean };
}

export interface TailOptions {
  /** Stream lines with a sequence greater than this. @default 0 */
  readonly afterSequence?: number;
  /** Ends the tail (the generator returns) when aborted. */
  readonly signal?: AbortSignal;
  /** Lines stored but not yet taken by the reader before the tail fails with SlowReaderError. @default 50000 */
  readonly maxBufferedLines?: number;
  /** Lines per store read. @default 1000 */
  readonly pageSize?: number;
  /**
   * Re-read the store when no stored-lines event came for this long. Lines stored by another
   * collector replica are announced by its notice (see {@link LogFeed.publishStoredElsewhere}); the
   * poll catches what a lost notice (core NATS is at most once) would miss. @default 1000
   */
  readonly pollIntervalMs?: number;
}

/** The consecutive run of lines starting at `next`, from lines sorted by sequence (duplicates skipped). */
function consecutiveFrom(sorted: readonly LogLineRecord[], next: number): LogLineRecord[] {
  const out: LogLineRecord[] = [];
  for (const line of sorted) {
    if (line.sequence < next) continue;
    if (line.sequence !== next) break;
    out.push(line);
    next += 1;
  }
  return out;
}

/**
 * An attempt's log, then its lines as they are stored, in sequence order without gaps or repeats,
 * until the log is complete. Live lines come from the collector's {@link LogFeed} (no store read);
 * the store is read for history, to fill a gap (batches may commit out of order), when another
 * replica announces lines it stored, and every `pollIntervalMs` without events. Memory is bounded: when the reader does not keep up and more than
 * `maxBufferedLines` live lines wait, the generator throws {@link SlowReaderError}.
 */
export async function* tailLog(store: LogStore, feed: LogFeed, attemptId: string, options: TailOptions = {}): AsyncGenerator<LogTailChunk> {
  const maxBuffered = options.maxBufferedLines ?? 50_000;
  const pageSize = options.pageSize ?? 1000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  let last = options.afterSequence ?? 0;
  let pending: LogLineRecord[] = [];
  let overflow = false;
  let status: LogStatus | undefined;
  let readStore = true;
  /** Another replica stored lines after `last`: read the store now rather than at the next poll. */
  let storedElsewhere = false;
  let wake: (() => void) | undefined;

  // Subscribed before the first store read, so no line committed in between is missed.
  const unsubscribe = feed.subscribe(attemptId, (lines, latest) => {
    status = latest;
    if (!overflow) {
      for (const line of lines) if (line.sequence > last) pending.push(line);
      if (pending.length > maxBuffered) {
        overflow = true;
        pending = [];
      }
    }
    wake?.();
  }, (maxSequence) => {
    // Lines already sent may still bring news: the final count, when the status read before them was
    // older than the lines read after it. Only a notice of sent lines for a log known final is idle.
    if (maxSequence <= last && status?.finalCount !== null && status?.finalCount !== undefined) return;
    storedElsewhere = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  try {
    while (!options.signal?.aborted) {
      if (overflow) throw new SlowReaderError(last, `more than ${maxBuffered} lines waiting`);
      if (pending.length > 0) {
        pending.sort((a, b) => a.sequence - b.sequence);
        const run = consecutiveFrom(pending, last + 1);
        if (run.length > 0) {
          last += run.length;
          pending = pending.filter((l) => l.sequence > last);
          yield { lines: run };
          continue;
        }
        // The head of the pending lines is ahead of `last`: a batch before them is still on its way,
        // or was stored by another collector. The store knows.
        pending = pending.filter((l) => l.sequence > last);
        readStore = true;
      }
      if (readStore || storedElsewhere) {
        readStore = false;
        storedElsewhere = false;
        // The status is read before the lines: if it says complete, the read that follows sees every line.
        status = await store.status(attemptId);
        const page = await store.readLines(attemptId, last, pageSize);
        const run = consecutiveFrom(page, last + 1);
        if (page.length === pageSize) readStore = true;
        if (run.length > 0) {
          last += run.length;
          yield { lines: run };
          continue;
        }
      }
      if (status?.finalCount !== null && status?.finalCount !== undefined && last >= status.finalCount) {
        yield { lines: [], end: { complete: true } };
        return;
      }
      if (status?.gap && pending.length === 0) {
        yield { lines: [], end: { complete: false } };
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          readStore = true;
          resolve();
        }, pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        if (overflow || pending.length > 0 || storedElsewhere || options.signal?.aborted) wake();
      });
      wake = undefined;
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener('abort', onAbort);
  }
}
