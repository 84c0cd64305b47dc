import type { RunState } from '@skein/domain';
import type { Queryable } from './db';

export interface RunRecord {
  readonly id: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly state: RunState;
  readonly trigger: string;
  readonly params: Record<string, string | number | boolean>;
  readonly logicalDate: Date;
  readonly createTime: Date;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
  readonly reason: string;
  /** The creating call's trace context, or ''. */
  readonly traceparent: string;
  /** Task runs not yet terminal. */
  readonly unfinishedTasks: number;
  /** Terminal task runs that failed or are upstream_failed. */
  readonly failedTasks: number;
  readonly cancelledTasks: number;
}

interface RunRow {
  id: string; workflow_id: string; workflow_version: number; state: RunState; trigger: string;
  params: Record<string, string | number | boolean>; logical_date: Date; create_time: Date; start_time: Date | null;
  end_time: Date | null; reason: string; traceparent: string; unfinished_tasks: number; failed_tasks: number; cancelled_tasks: number;
}

const runColumns = 'id, workflow_id, workflow_version, state, trigger, params, logical_date, create_time, start_time, end_time, reason, traceparent, unfinished_tasks, failed_tasks, cancelled_tasks';

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id, workflowId: row.workflow_id, workflowVersion: row.workflow_version, state: row.state, trigger: row.trigger,
    params: row.params, logicalDate: row.logical_date, createTime: row.create_time, startTime: row.start_time,
    endTime: row.end_time, reason: row.reason, traceparent: row.traceparent,
    unfinishedTasks: row.unfinished_tasks, failedTasks: row.failed_tasks, cancelledTasks: row.cancelled_tasks,
  };
}

export interface NewRun {
  readonly id: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly state: RunState;
  readonly trigger: string;
  readonly params: Record<string, string | number | boolean>;
  readonly logicalDate: Date;
  readonly startTime: Date | null;
  readonly traceparent?: string;
  /** Every task run of a new run is unfinished. */
  readonly taskCount: number;
}

export async function insertRun(db: Queryable, run: NewRun): Promise<RunRecord> {
  const { rows } = await db.query<RunRow>(
    `INSERT INTO runs (id, workflow_id, workflow_version, state, trigger, params, logical_date, start_time, traceparent, unfinished_tasks)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${runColumns}`,
    [run.id, run.workflowId, run.workflowVersion, run.state, run.trigger, JSON.stringify(run.params), run.logicalDate, run.startTime,
      run.traceparent ?? '', run.taskCount]);
  return toRun(rows[0] as RunRow);
}

export async function getRun(db: Queryable, id: string): Promise<RunRecord | undefined> {
  const { rows } = await db.query<RunRow>(`SELECT ${runColumns} FROM runs WHERE id = $1`, [id]);
  return rows[0] && toRun(rows[0]);
}

/** Locks the run row: every change to a run and its tasks happens under this lock. */
export async function lockRun(db: Queryable, id: string): Promise<RunRecord | undefined> {
  const { rows } = await db.query<RunRow>({ name: 'skein-lock-run', text: `SELECT ${runColumns} FROM runs WHERE id = $1 FOR UPDATE`, values: [id] });
  return rows[0] && toRun(rows[0]);
}

export interface RunCursor {
  /** Kept for callers that encode it; the position is taken from the run itself (microseconds). */
  readonly createTime: Date;
  readonly id: string;
}

/**
 * Runs newest first, optionally of one workflow, after a cursor (exclusive). The cursor's position is
 * read from the stored row: a JS Date has only milliseconds, and runs created in the same millisecond
 * must not be skipped at a page boundary.
 */
export async function listRuns(db: Queryable, page: { workflowId?: string; limit: number; after?: RunCursor }): Promise<RunRecord[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${runColumns} FROM runs
      WHERE ($1::text IS NULL OR workflow_id = $1)
        AND ($2::text IS NULL OR (create_time, id) < ((SELECT create_time FROM runs WHERE id = $2), $2))
      ORDER BY create_time DESC, id DESC LIMIT $3`,
    [page.workflowId ?? null, page.after?.id ?? null, page.limit]);
  return rows.map(toRun);
}

/** Sets why a run ended the way it did. */
export async function setRunReason(db: Queryable, id: string, reason: string): Promise<void> {
  await db.query(`UPDATE runs SET reason = $2 WHERE id = $1`, [id, reason]);
}
