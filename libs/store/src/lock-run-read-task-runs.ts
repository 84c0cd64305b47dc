import type { Queryable } from './db';
import { runColumns, toRun, type RunRecord, type RunRow } from './runs';
import { taskRunColumns, toTaskRun, type TaskRunRecord, type TaskRunRow } from './task-runs';

const runSelect = runColumns.split(', ').map((c) => `r.${c}`).join(', ');
const taskRunSelect = taskRunColumns.split(',').map((c) => c.trim()).map((c) => `t.${c} AS t_${c}`).join(', ');

/**
 * Locks the run row and reads the named task runs in ONE statement (the hot path's first round trip
 * after BEGIN; it was two: `lockRun`, then `readTaskRuns`).
 *
 * Correct under concurrency because every row it returns is locked: the run `FOR UPDATE` (as
 * `lockRun` does) and the task runs `FOR NO KEY UPDATE` (what their UPDATE takes anyway). A statement
 * that waited for the run lock re-reads each locked row at its newest committed version (PostgreSQL's
 * EvalPlanQual recheck), so it sees what the previous holder of the lock wrote, as a separate read
 * after the lock would. An unlocked join or subquery would not: it would read the snapshot taken
 * before the wait.
 *
 * Returns undefined when no row matches — the run does not exist or none of the tasks is in it —
 * and then has locked nothing: the caller falls back to `lockRun`.
 */
export async function lockRunReadingTaskRuns(db: Queryable, runId: string, tasks: readonly string[]): Promise<{ run: RunRecord; taskRuns: TaskRunRecord[] } | undefined> {
  const { rows } = await db.query<RunRow & Record<string, unknown>>({
    name: 'skein-lock-run-read-task-runs',
    text: `SELECT ${runSelect}, ${taskRunSelect}
             FROM runs r JOIN task_runs t ON t.run_id = r.id
            WHERE r.id = $1 AND t.task = ANY($2::text[])
              FOR UPDATE OF r FOR NO KEY UPDATE OF t`,
    values: [runId, tasks],
  });
  const first = rows[0];
  if (first === undefined) return undefined;
  return {
    run: toRun(first),
    taskRuns: rows.map((row) => toTaskRun(taskRunRow(row))),
  };
}

function taskRunRow(row: Record<string, unknown>): TaskRunRow {
  const out: Record<string, unknown> = {};
  for (const key in row) if (key.startsWith('t_')) out[key.slice(2)] = row[key];
  return out as unknown as TaskRunRow;
}
