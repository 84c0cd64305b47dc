import type { TaskRunState } from '@skein/domain';
import type { Queryable } from './db';

export interface TaskRunRecord {
  readonly runId: string;
  readonly task: string;
  readonly position: number;
  readonly state: TaskRunState;
  readonly currentAttempt: number;
  readonly retryAt: Date | null;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
}

interface TaskRunRow {
  run_id: string; task: string; position: number; state: TaskRunState; current_attempt: number; retry_at: Date | null;
  start_time: Date | null; end_time: Date | null;
}

function toTaskRun(row: TaskRunRow): TaskRunRecord {
  return {
    runId: row.run_id, task: row.task, position: row.position, state: row.state, currentAttempt: row.current_attempt,
    retryAt: row.retry_at, startTime: row.start_time, endTime: row.end_time,
  };
}

export interface NewTaskRun {
  readonly task: string;
  readonly position: number;
  readonly state: TaskRunState;
  readonly currentAttempt: number;
}

/** Inserts all of a run's task runs in one statement. */
export async function insertTaskRuns(db: Queryable, runId: string, taskRuns: readonly NewTaskRun[]): Promise<void> {
  await db.query(
    `INSERT INTO task_runs (run_id, task, position, state, current_attempt)
     SELECT $1, t.task, t.position, t.state, t.current_attempt
       FROM unnest($2::text[], $3::int[], $4::text[], $5::int[]) AS t(task, position, state, current_attempt)`,
    [runId, taskRuns.map((t) => t.task), taskRuns.map((t) => t.position), taskRuns.map((t) => t.state), taskRuns.map((t) => t.currentAttempt)]);
}

export async function listTaskRuns(db: Queryable, runId: string): Promise<TaskRunRecord[]> {
  const { rows } = await db.query<TaskRunRow>(
    `SELECT run_id, task, position, state, current_attempt, retry_at, start_time, end_time
       FROM task_runs WHERE run_id = $1 ORDER BY position`, [runId]);
  return rows.map(toTaskRun);
}

export interface TaskRunChange {
  readonly task: string;
  readonly state: TaskRunState;
  readonly currentAttempt: number;
  readonly retryAt: Date | null;
  /** Set when the task first starts; kept afterwards. */
  readonly startTime: Date | null;
  /** Set when the task reaches a terminal state; cleared otherwise. */
  readonly endTime: Date | null;
}

/** Applies several task-run changes of one run in one statement. */
export async function updateTaskRuns(db: Queryable, runId: string, changes: readonly TaskRunChange[]): Promise<void> {
  if (changes.length === 0) return;
  await db.query(
    `UPDATE task_runs AS tr
        SET state = c.state, current_attempt = c.current_attempt, retry_at = c.retry_at,
            start_time = coalesce(tr.start_time, c.start_time), end_time = c.end_time
       FROM unnest($2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[])
            AS c(task, state, current_attempt, retry_at, start_time, end_time)
      WHERE tr.run_id = $1 AND tr.task = c.task`,
    [runId, changes.map((c) => c.task), changes.map((c) => c.state), changes.map((c) => c.currentAttempt),
      changes.map((c) => c.retryAt), changes.map((c) => c.startTime), changes.map((c) => c.endTime)]);
}

/** Task runs whose retry is due, oldest first (not locked: the caller locks each run). */
export async function listDueRetries(db: Queryable, now: Date, limit: number): Promise<{ runId: string; task: string }[]> {
  const { rows } = await db.query<{ run_id: string; task: string }>(
    `SELECT run_id, task FROM task_runs WHERE state = 'up_for_retry' AND retry_at <= $1 ORDER BY retry_at LIMIT $2`, [now, limit]);
  return rows.map((r) => ({ runId: r.run_id, task: r.task }));
}

/** The earliest pending retry, to arm the retry timer. */
export async function nextRetryTime(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ next: Date | null }>(`SELECT min(retry_at) AS next FROM task_runs WHERE state = 'up_for_retry'`);
  return rows[0]?.next ?? null;
}
