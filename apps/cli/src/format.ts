import { formatDuration } from '@skein/domain';
import { attemptStateToJSON, runStateToJSON, taskRunStateToJSON, type AttemptState, type RunState, type TaskRunState } from '@skein/proto';

/** Human output: aligned tables, short states, durations and ages. */

/** Columns separated by two spaces, each as wide as its widest cell; the header in capitals. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}

/** `key: value` lines with the values aligned. */
export function details(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`.trimEnd()).join('\n');
}

function shortState(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : name.toLowerCase();
}

/** `RUN_STATE_SUCCEEDED` → `succeeded`. */
export function runStateName(state: RunState): string {
  return shortState(runStateToJSON(state), 'RUN_STATE_');
}

/** `TASK_RUN_STATE_UP_FOR_RETRY` → `up_for_retry`. */
export function taskRunStateName(state: TaskRunState): string {
  return shortState(taskRunStateToJSON(state), 'TASK_RUN_STATE_');
}

export function attemptStateName(state: AttemptState): string {
  return shortState(attemptStateToJSON(state), 'ATTEMPT_STATE_');
}

/**
 * How long something took: from start to end, or to `now` while it runs; `-` before it starts.
 * Sub-second durations keep their milliseconds, longer ones are rounded to the second.
 */
export function elapsed(start: Date | undefined, end: Date | undefined, now: Date = new Date()): string {
  if (!start) return '-';
  const ms = Math.max(0, (end ?? now).getTime() - start.getTime());
  return formatDuration(ms < 1000 ? ms : Math.round(ms / 1000) * 1000);
}

/** How long ago, in the largest whole unit: `45s`, `3m`, `5h`, `2d`. */
export function age(time: Date | undefined, now: Date = new Date()): string {
  if (!time) return '-';
  const seconds = Math.max(0, Math.floor((now.getTime() - time.getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** An ISO timestamp without milliseconds, or `-`. */
export function timestamp(time: Date | undefined): string {
  return time ? time.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

/** `k=v, k=v` for params and outputs; `-` when empty. */
export function keyValues(values: Record<string, unknown> | undefined): string {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return '-';
  return entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
}

/** Proto3 JSON, indented, as `-o json` prints it. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
