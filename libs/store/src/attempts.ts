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

/** A run's attempts that have not ended (queued or running). */
export async function listUnfinishedRunAttempts(db: Queryable, runId: string): Promise<AttemptRecord[]> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT ${attemptColumns} FROM attempts WHERE run_id = $1 AND state IN ('queued', 'running') ORDER BY task, number`, [runId]);
  return rows.map(toAttempt);
}

// The sweeps below reach attempts through the active runs (index runs_active, then attempts by run_id):
// an index on attempts.state would make every attempt state change a non-HOT update on the hot path.
const activeAttemptColumns = attemptColumns.split(', ').map((c) => `a.${c}`).join(', ');

/** Attempts still queued (no executor took them) since before `queuedBefore`, oldest first. */
export async function listStaleQueuedAttempts(db: Queryable, queuedBefore: Date, limit: number): Promise<AttemptRecord[]> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT ${activeAttemptColumns} FROM runs r JOIN attempts a ON a.run_id = r.id
      WHERE r.state IN ('queued', 'running') AND a.state = 'queued' AND a.queue_time < $1
        AND NOT EXISTS (SELECT 1 FROM attempt_queue_deadlines d WHERE d.attempt_id = a.id)
      ORDER BY a.queue_time LIMIT $2`, [queuedBefore, limit]);
  return rows.map(toAttempt);
}

/** Queued attempts of tasks with their own `queuedTimeout`, past it (with that timeout). */
export async function listOverdueQueuedAttempts(db: Queryable, now: Date, limit: number): Promise<(AttemptRecord & { timeoutMs: number })[]> {
  const { rows } = await db.query<AttemptRow & { timeout_ms: number }>(
    `SELECT ${activeAttemptColumns}, d.timeout_ms FROM attempt_queue_deadlines d JOIN attempts a ON a.id = d.attempt_id JOIN runs r ON r.id = a.run_id
      WHERE d.deadline < $1 AND a.state = 'queued' AND r.state IN ('queued', 'running')
      ORDER BY d.deadline LIMIT $2`, [now, limit]);
  return rows.map((r) => ({ ...toAttempt(r), timeoutMs: r.timeout_ms }));
}

/** Records the queued deadlines of attempts of tasks with their own `queuedTimeout`. */
export async function insertQueueDeadlines(db: Queryable, rows: readonly { attemptId: string; deadline: Date; timeoutMs: number }[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO attempt_queue_deadlines (attempt_id, deadline, timeout_ms) SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int[])`,
    [rows.map((r) => r.attemptId), rows.map((r) => r.deadline), rows.map((r) => r.timeoutMs)]);
}

/** Drops the deadlines of attempts that are no longer queued (started, ended or gone). */
export async function pruneQueueDeadlines(db: Queryable): Promise<number> {
  const result = await db.query(
    `DELETE FROM attempt_queue_deadlines d WHERE NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = d.attempt_id AND a.state = 'queued')`);
  return result.rowCount ?? 0;
}

/** Attempts running on some executor, oldest first. */
export async function listRunningAttempts(db: Queryable, limit: number): Promise<AttemptRecord[]> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT ${activeAttemptColumns} FROM runs r JOIN attempts a ON a.run_id = r.id
      WHERE r.state IN ('queued', 'running') AND a.state = 'running'
      ORDER BY a.start_time LIMIT $1`, [limit]);
  return rows.map(toAttempt);
}
