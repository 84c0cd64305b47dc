import type { TaskRunState } from '@skein/domain';
import type { Queryable } from './db';
import { intArray, textArray } from './pg-array';

/** How many of a task's upstream tasks ended each way so far (the rest are not terminal yet). */
export interface UpstreamCounts {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly upstreamFailed: number;
  readonly skipped: number;
  readonly cancelled: number;
}

export interface TaskRunRecord {
  readonly runId: string;
  readonly task: string;
  readonly position: number;
  readonly state: TaskRunState;
  readonly currentAttempt: number;
  /** Attempts that ran and failed (what the retry budget counts). */
  readonly failedAttempts: number;
  readonly retryAt: Date | null;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
  readonly upstream: UpstreamCounts;
}

/** A task_runs row as selected with `taskRunColumns`. */
export interface TaskRunRow {
  run_id: string; task: string; position: number; state: TaskRunState; current_attempt: number; failed_attempts: number; retry_at: Date | null;
  start_time: Date | null; end_time: Date | null; upstream_total: number; upstream_succeeded: number; upstream_failed: number;
  upstream_upstream_failed: number; upstream_skipped: number; upstream_cancelled: number;
}

export const taskRunColumns = `run_id, task, position, state, current_attempt, failed_attempts, retry_at, start_time, end_time, upstream_total,
  upstream_succeeded, upstream_failed, upstream_upstream_failed, upstream_skipped, upstream_cancelled`;

export function toTaskRun(row: TaskRunRow): TaskRunRecord {
  return {
    runId: row.run_id, task: row.task, position: row.position, state: row.state, currentAttempt: row.current_attempt,
    failedAttempts: row.failed_attempts, retryAt: row.retry_at, startTime: row.start_time, endTime: row.end_time,
    upstream: {
      total: row.upstream_total, succeeded: row.upstream_succeeded, failed: row.upstream_failed,
      upstreamFailed: row.upstream_upstream_failed, skipped: row.upstream_skipped, cancelled: row.upstream_cancelled,
    },
  };
}

export interface NewTaskRun {
  readonly task: string;
  readonly position: number;
  readonly state: TaskRunState;
  readonly currentAttempt: number;
  readonly upstreamTotal: number;
}

/** Inserts all of a run's task runs in one statement. */
export async function insertTaskRuns(db: Queryable, runId: string, taskRuns: readonly NewTaskRun[]): Promise<void> {
  await db.query(
    `INSERT INTO task_runs (run_id, task, position, state, current_attempt, upstream_total)
     SELECT $1, t.task, t.position, t.state, t.current_attempt, t.upstream_total
       FROM unnest($2::text[], $3::int[], $4::text[], $5::int[], $6::int[]) AS t(task, position, state, current_attempt, upstream_total)`,
    [runId, textArray(taskRuns.map((t) => t.task)), intArray(taskRuns.map((t) => t.position)), textArray(taskRuns.map((t) => t.state)),
      intArray(taskRuns.map((t) => t.currentAttempt)), intArray(taskRuns.map((t) => t.upstreamTotal))]);
}

export async function listTaskRuns(db: Queryable, runId: string): Promise<TaskRunRecord[]> {
  const { rows } = await db.query<TaskRunRow>(`SELECT ${taskRunColumns} FROM task_runs WHERE run_id = $1 ORDER BY position`, [runId]);
  return rows.map(toTaskRun);
}

/** Only the named task runs of a run: what one event touches (the hot path never reads the whole run). */
export async function readTaskRuns(db: Queryable, runId: string, tasks: readonly string[]): Promise<TaskRunRecord[]> {
  const { rows } = await db.query<TaskRunRow>({
    name: 'skein-read-task-runs',
    text: `SELECT ${taskRunColumns} FROM task_runs WHERE run_id = $1 AND task = ANY($2::text[])`,
    values: [runId, tasks],
  });
  return rows.map(toTaskRun);
}

/** Names of the run's tasks in the given states (e.g. which failed, for the run's reason). */
export async function listTaskNamesInStates(db: Queryable, runId: string, states: readonly TaskRunState[]): Promise<string[]> {
  const { rows } = await db.query<{ task: string }>(
    `SELECT task FROM task_runs WHERE run_id = $1 AND state = ANY($2::text[]) ORDER BY position`, [runId, states]);
  return rows.map((r) => r.task);
}

/** Task runs whose retry is due, oldest first (not locked: the caller locks each run). */
export async function listDueRetries(db: Queryable, now: Date, limit: number): Promise<{ runId: string; task: string }[]> {
  const { rows } = await db.query<{ run_id: string; task: string }>(
    `SELECT run_id, task FROM task_runs WHERE state = 'up_for_retry' AND retry_at <= $1 ORDER BY retry_at LIMIT $2`, [now, limit]);
  return rows.map((r) => ({ runId: r.run_id, task: r.task }));
}

/** The earliest pending retry, to arm the retry timer. */
export async function nextRetryTime(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ next: Date | null }>(`SELECT min(retry_at) AS next FROM task_runs WHERE state = 'up_for_retry' AND retry_at IS NOT NULL`);
  return rows[0]?.next ?? null;
}
