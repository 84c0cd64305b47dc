import type { Queryable } from './db';
import { runColumns, toRun, type RunRecord, type RunRow } from './runs';
import { readTaskRuns, taskRunColumns, toTaskRun, type TaskRunRecord, type TaskRunRow } from './task-runs';

/** `columns` (a comma-separated list) qualified by `alias`, each renamed `<as><column>` when `as` is given. */
export function qualified(alias: string, columns: string, as = ''): string {
  return columns.split(',').map((c) => c.trim()).map((c) => `${alias}.${c}${as ? ` AS ${as}${c}` : ''}`).join(', ');
}

/** The run's columns, each renamed `r_<column>` (task-run columns keep their names). */
export const prefixedRunSelect = (alias: string) => qualified(alias, runColumns, 'r_');
const taskRunSelect = qualified('t', taskRunColumns);

/**
 * The task runs named by `$2` of run `$1`, numbered `n` from 1: a statement joins the run's row to the
 * first of them only (whichever row that is in the result: no sort), so the run's twenty columns (its
 * params, its times) are sent and parsed once, not once per task run (a thousand times for a batch of a
 * thousand events).
 */
const numberedTaskRuns = `(SELECT ${taskRunColumns}, row_number() OVER () AS n FROM task_runs WHERE run_id = $1 AND task = ANY($2::text[])) t`;

/**
 * Locks the run row and reads the named task runs in ONE statement (the hot path's first round trip
 * after BEGIN; it was two: `lockRun`, then `readTaskRuns`).
 *
 * Why this is correct under concurrency. The statement reads the task runs from the snapshot it took
 * when it began; if it then had to wait for the run lock, the holder may have changed them since. The
 * run row itself comes back at its newest version (PostgreSQL re-reads a row it locks), and every
 * writer of task runs also updates the run row in the same transaction (`writeRunChanges`,
 * `abandonRun`, `grantSlots`). So the statement compares the `xmin` of the run row it locked with the `xmin` of the
 * one in its snapshot: equal, nobody wrote the run since the snapshot and the task runs are current;
 * different, it waited for a writer, and the task runs are read again (a second statement, with a
 * fresh snapshot, under the lock). Locking the task runs instead would also be correct but writes a
 * lock record for every row, a thousand of them on a wide fan-out.
 *
 * Returns undefined when no row matches — the run does not exist or none of the tasks is in it (the
 * run row may then be locked or not) — and the caller falls back to `lockRun`.
 */
export async function lockRunReadingTaskRuns(db: Queryable, runId: string, tasks: readonly string[]): Promise<{ run: RunRecord; taskRuns: TaskRunRecord[] } | undefined> {
  const { rows } = await db.query<TaskRunRow & { current: boolean | null } & Record<string, unknown>>({
    name: 'skein-lock-run-read-task-runs',
    // The run row is locked (and re-read at its newest version) whether or not it joins a task run.
    text: `WITH r AS (SELECT *, xmin = (SELECT s.xmin FROM runs s WHERE s.id = $1) AS current FROM runs WHERE id = $1 FOR UPDATE)
           SELECT ${prefixedRunSelect('r')}, r.current, ${taskRunSelect}
             FROM ${numberedTaskRuns} LEFT JOIN r ON t.n = 1`,
    values: [runId, tasks],
  });
  const head = rows.find((row) => row.r_id != null);
  if (head === undefined) return undefined;
  const run = toRun(runRow(head));
  if (!head.current) return { run, taskRuns: await readTaskRuns(db, runId, tasks) };
  return { run, taskRuns: rows.map(toTaskRun) };
}

/** The run half of a row whose run columns are selected as `r_<column>` ({@link prefixedRunSelect}). */
export function runRow(row: Record<string, unknown>): RunRow {
  const out: Record<string, unknown> = {};
  for (const key in row) if (key.startsWith('r_')) out[key.slice(2)] = row[key];
  return out as unknown as RunRow;
}

/** A run, the version of its row (`xmin`), and some of its task runs, all from one snapshot. */
export interface RunSnapshot {
  readonly run: RunRecord;
  /** Changes whenever the run row is written: `writeRunChanges` applies only if it is still this. */
  readonly version: string;
  readonly taskRuns: TaskRunRecord[];
}

/**
 * Reads the run and the named task runs in ONE statement, without locking anything: the first of the
 * two round trips of the optimistic hot path (`RunApplier.applyEvents`). What is decided from it is
 * written by `writeRunChanges` with `ifVersion`, which applies nothing if any writer changed the run
 * since — and every writer of task runs also writes the run row (see `lockRunReadingTaskRuns`).
 *
 * Returns undefined when no row matches (the run does not exist, or none of the tasks is in it).
 */
export async function readRunSnapshot(db: Queryable, runId: string, tasks: readonly string[]): Promise<RunSnapshot | undefined> {
  const { rows } = await db.query<TaskRunRow & { version: string | null } & Record<string, unknown>>({
    name: 'skein-read-run-snapshot',
    text: `SELECT ${prefixedRunSelect('r')}, r.xmin::text AS version, ${taskRunSelect}
             FROM ${numberedTaskRuns} LEFT JOIN runs r ON r.id = $1 AND t.n = 1`,
    values: [runId, tasks],
  });
  const head = rows.find((row) => row.version != null);
  if (head?.version == null) return undefined;
  return { run: toRun(runRow(head)), version: head.version, taskRuns: rows.map(toTaskRun) };
}
