import type { LogLineRecord, LogStore } from '@skein/store';

/** How far an attempt's stored log reaches (the answer to GetLogProgress). */
export interface LogProgress {
  /** The highest sequence stored; 0 when nothing is. */
  readonly lastSequence: number;
  /** The time of the last stored stdout/stderr line; absent when there is none. */
  readonly lastOutputTime?: Date;
  /** Stored stdout/stderr lines at exactly `lastOutputTime`, the pieces of a split line counted once. */
  readonly outputLinesAtLastTime: number;
  readonly complete: boolean;
  /** Bytes of stored stdout/stderr text; present when asked for (see {@link LogProgressOptions}). */
  readonly outputBytes?: number;
}

/** What a progress read includes beyond the default. */
export interface LogProgressOptions {
  /** Sum the stored output bytes too (reads the whole log: an adopting executor asks). @default false */
  readonly withOutputBytes?: boolean;
}

/** The executor's mark on every piece of a split line but the last (apps/executor LINE_CONTINUES_MARKER). */
const LINE_CONTINUES_MARKER = ' [skein: line continues]';
/** Lines read per page; the store's reads are bounded. */
const PAGE = 5000;
/** How many of the last lines are searched for the last output line before the whole log is. */
const TAIL_WINDOW = 2000;
const SYSTEM = 3;

async function readAfter(store: LogStore, attemptId: string, after: number): Promise<LogLineRecord[]> {
  const lines: LogLineRecord[] = [];
  for (let from = after; ;) {
    const page = await store.readLines(attemptId, from, PAGE);
    lines.push(...page);
    if (page.length < PAGE) return lines;
    from = page[page.length - 1]!.sequence;
  }
}

function lastOutput(lines: readonly LogLineRecord[]): { time: Date; count: number } | undefined {
  let time: number | undefined;
  let count = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.stream === SYSTEM) continue;
    if (time === undefined) time = line.time.getTime();
    else if (line.time.getTime() !== time) break;
    if (!line.text.endsWith(LINE_CONTINUES_MARKER)) count += 1;
  }
  return time === undefined ? undefined : { time: new Date(time), count };
}

/**
 * Reads how far an attempt's stored log reaches with the store's own reads. Lines are numbered from
 * 1, so with `storedCount` lines stored the highest sequence is at least `storedCount`: reading from
 * a little before it finds the end (and, almost always, the last output line) in one page. Only a
 * log whose last `TAIL_WINDOW` lines are all system lines is read whole.
 */
export async function readLogProgress(store: LogStore, attemptId: string, options: LogProgressOptions = {}): Promise<LogProgress> {
  const status = await store.status(attemptId);
  if (status.storedCount === 0) {
    return { lastSequence: 0, outputLinesAtLastTime: 0, complete: status.complete, ...(options.withOutputBytes && { outputBytes: 0 }) };
  }
  const from = Math.max(0, status.storedCount - TAIL_WINDOW);
  let tail = await readAfter(store, attemptId, from);
  let output = lastOutput(tail);
  const lastSequence = tail.length > 0 ? tail[tail.length - 1]!.sequence : 0;
  if (from > 0 && (output === undefined || tail.every((l) => l.stream !== SYSTEM && l.time.getTime() === output?.time.getTime()))) {
    // The window holds no output line, or only lines at the last instant (more may precede it).
    tail = await readAfter(store, attemptId, 0);
    output = lastOutput(tail);
  }
  return {
    lastSequence,
    ...(output && { lastOutputTime: output.time }),
    outputLinesAtLastTime: output?.count ?? 0,
    complete: status.complete,
    ...(options.withOutputBytes && { outputBytes: await store.outputBytes(attemptId) }),
  };
}
