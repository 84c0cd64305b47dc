import type { AttemptState } from '@skein/domain';
import type { Queryable } from './db';

export interface AttemptRecord {
  readonly id: string;
  readonly runId: string;
  readonly task: string;
  readonly number: number;
  readonly state: AttemptState;
  readonly exitCode: number | null;
  readonly reason: string;
  readonly message: string;
  readonly outputs: Record<string, unknown> | null;
  readonly executor: string;
  readonly queueTime: Date;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
}

interface AttemptRow {
  id: string; run_id: string; task: string; number: number; state: AttemptState; exit_code: number | null; reason: string;
  message: string; outputs: Record<string, unknown> | null; executor: string; queue_time: Date; start_time: Date | null;
  end_time: Date | null;
}

const attemptColumns = 'id, run_id, task, number, state, exit_code, reason, message, outputs, executor, queue_time, start_time, end_time';

function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    id: row.id, runId: row.run_id, task: row.task, number: row.number, state: row.state, exitCode: row.exit_code,
    reason: row.reason, message: row.message, outputs: row.outputs, executor: row.executor, queueTime: row.queue_time,
    startTime: row.start_time, endTime: row.end_time,
  };
}

export interface NewAttempt {
  readonly id: string;
  readonly task: string;
  readonly number: number;
  readonly queueTime: Date;
}

/** Inserts queued attempts of one run in one statement. */
export async function insertAttempts(db: Queryable, runId: string, attempts: readonly NewAttempt[]): Promise<void> {
  if (attempts.length === 0) return;
  await db.query(
    `INSERT INTO attempts (id, run_id, task, number, state, queue_time)
     SELECT a.id, $1, a.task, a.number, 'queued', a.queue_time
       FROM unnest($2::text[], $3::text[], $4::int[], $5::timestamptz[]) AS a(id, task, number, queue_time)`,
    [runId, attempts.map((a) => a.id), attempts.map((a) => a.task), attempts.map((a) => a.number), attempts.map((a) => a.queueTime)]);
}

export async function getAttempt(db: Queryable, id: string): Promise<AttemptRecord | undefined> {
  const { rows } = await db.query<AttemptRow>(`SELECT ${attemptColumns} FROM attempts WHERE id = $1`, [id]);
  return rows[0] && toAttempt(rows[0]);
}

/** Every attempt of a run, by task then number. */
export async function listRunAttempts(db: Queryable, runId: string): Promise<AttemptRecord[]> {
  const { rows } = await db.query<AttemptRow>(`SELECT ${attemptColumns} FROM attempts WHERE run_id = $1 ORDER BY task, number`, [runId]);
  return rows.map(toAttempt);
}

/** The attempt of a task run with this number, or the latest when `number` is 0. */
export async function findTaskAttempt(db: Queryable, runId: string, task: string, number: number): Promise<AttemptRecord | undefined> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT ${attemptColumns} FROM attempts WHERE run_id = $1 AND task = $2 AND ($3::int = 0 OR number = $3)
      ORDER BY number DESC LIMIT 1`, [runId, task, number]);
  return rows[0] && toAttempt(rows[0]);
}

/** QUEUED → RUNNING. Returns false when the attempt was not queued (a late or repeated event). */
export async function markAttemptRunning(db: Queryable, id: string, executor: string, startTime: Date): Promise<boolean> {
  const result = await db.query(
    `UPDATE attempts SET state = 'running', executor = $2, start_time = $3 WHERE id = $1 AND state = 'queued'`, [id, executor, startTime]);
  return result.rowCount === 1;
}

export interface AttemptEnd {
  readonly id: string;
  readonly state: AttemptState;
  readonly exitCode: number | null;
  readonly reason: string;
  readonly message: string;
  readonly outputs: Record<string, unknown> | null;
  readonly executor: string;
  readonly startTime: Date | null;
  readonly endTime: Date;
}

/**
 * Records the end of an attempt that is not yet terminal. Returns false when it already ended:
 * events are delivered at least once, and only the first end counts.
 */
export async function finishAttempt(db: Queryable, end: AttemptEnd): Promise<boolean> {
  const result = await db.query(
    `UPDATE attempts
        SET state = $2, exit_code = $3, reason = $4, message = $5, outputs = $6,
            executor = CASE WHEN $7 = '' THEN executor ELSE $7 END,
            start_time = coalesce(start_time, $8, $9), end_time = $9
      WHERE id = $1 AND state IN ('queued', 'running')`,
    [end.id, end.state, end.exitCode, end.reason, end.message, end.outputs === null ? null : JSON.stringify(end.outputs), end.executor,
      end.startTime, end.endTime]);
  return result.rowCount === 1;
}

/** Outputs of the current attempts of the given tasks of a run (for templates downstream). */
export async function listTaskOutputs(db: Queryable, runId: string, tasks: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await db.query<{ task: string; outputs: Record<string, unknown> | null }>(
    `SELECT a.task, a.outputs FROM task_runs tr
       JOIN attempts a ON a.run_id = tr.run_id AND a.task = tr.task AND a.number = tr.current_attempt
      WHERE tr.run_id = $1 AND tr.task = ANY($2::text[])`, [runId, tasks]);
  return new Map(rows.map((r) => [r.task, r.outputs ?? {}]));
}

/** Attempts not yet ended (queued or running), oldest first. */
export async function listUnfinishedAttempts(db: Queryable, limit: number): Promise<AttemptRecord[]> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT ${attemptColumns} FROM attempts WHERE state IN ('queued', 'running') ORDER BY queue_time LIMIT $1`, [limit]);
  return rows.map(toAttempt);
}
