import { writeFileSync } from 'node:fs';

/**
 * The points one hop of a chain passes, in order: where the benchmark's per-hop breakdown comes from
 * (`npm run bench -- chain --hop-marks`, docs/benchmarks.md).
 */
export const HOP_MARKS = [
  'executor.dispatch-received',
  // A task run as a process (the local runtime): launched, and its exit seen. An inline runtime (noop) has neither.
  'executor.launching',
  'executor.task-exited',
  'executor.event-publishing',
  'scheduler.event-received',
  'scheduler.deciding',
  'scheduler.state-read',
  'scheduler.writing',
  'scheduler.committed',
] as const;

export type HopMark = (typeof HOP_MARKS)[number];

/** At most this many marks are kept (a day of marks would be memory no one asked for). */
const MAX_MARKS = 2_000_000;

let marks: (string | number)[] | undefined;

/**
 * Starts recording hop marks in this process (off unless called: `SKEIN_HOP_MARKS=<path prefix>` in the
 * scheduler and the executor). They are written, as `[mark, epoch ms with microseconds, ...]`, to
 * `<prefix>.<pid>.json` when the process exits.
 */
export function recordHopMarks(prefix: string): void {
  if (marks !== undefined) return;
  const recorded: (string | number)[] = [];
  marks = recorded;
  process.on('exit', () => {
    writeFileSync(`${prefix}.${process.pid}.json`, JSON.stringify(recorded));
  });
}

/** Notes that this process passed a point of the hot path, at high resolution; nothing unless recording. */
export function markHop(mark: HopMark): void {
  if (marks === undefined || marks.length >= MAX_MARKS) return;
  marks.push(mark, performance.timeOrigin + performance.now());
}
