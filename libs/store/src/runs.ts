import type { RunState, ParamValue } from '@skein/domain';
import type { Queryable } from './db';

export interface RunRecord {
  readonly id: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly state: RunState;
  readonly trigger: string;
  readonly params: Record<string, ParamValue>;
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
  /** False while the run waits for a slot under maxActiveRuns (or its backfill's limit). */
  readonly admitted: boolean;
  /** The backfill that created the run with a limit of its own (`--max-active`), and that limit. */
  readonly backfill: { readonly id: string; readonly maxActive: number } | null;
  /** How often the run was retried in place (`skein runs retry`), and when the latest retry began. */
  readonly retries: number;
  readonly retryTime: Date | null;
}

/** A runs row as selected with `runColumns` (shared with the statements that lock a run). */
export interface RunRow {
  id: string; workflow_id: string; workflow_version: number; state: RunState; trigger: string;
  params: Record<string, ParamValue>; logical_date: Date; create_time: Date; start_time: Date | null;
  end_time: Date | null; reason: string; traceparent: string; unfinished_tasks: number; failed_tasks: number; cancelled_tasks: number; admitted: boolean;
  backfill_id: string | null; backfill_max_active: number | null; retries: number; retry_time: Date | null;
}

export const runColumns = 'id, workflow_id, workflow_version, state, trigger, params, logical_date, create_time, start_time, end_time, reason, traceparent, unfinished_tasks, failed_tasks, cancelled_tasks, admitted, backfill_id, backfill_max_active, retries, retry_time';

export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id, workflowId: row.workflow_id, workflowVersion: row.workflow_version, state: row.state, trigger: row.trigger,
    params: row.params, logicalDate: row.logical_date, createTime: row.create_time, startTime: row.start_time,
    endTime: row.end_time, reason: row.reason, traceparent: row.traceparent,
    unfinishedTasks: row.unfinished_tasks, failedTasks: row.failed_tasks, cancelledTasks: row.cancelled_tasks, admitted: row.admitted,
    backfill: row.backfill_id !== null && row.backfill_max_active !== null ? { id: row.backfill_id, maxActive: row.backfill_max_active } : null,
    retries: row.retries, retryTime: row.retry_time,
  };
}

export interface NewRun {
  readonly id: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly state: RunState;
  readonly trigger: string;
  readonly params: Record<string, ParamValue>;
  readonly logicalDate: Date;
  readonly startTime: Date | null;
  readonly traceparent?: string;
  /** Every task run of a new run is unfinished. */
  readonly taskCount: number;
  /** False: the run waits for a slot under maxActiveRuns. @default true */
  readonly admitted?: boolean;
  /** A backfill with a limit of its own. */
  readonly backfill?: { readonly id: string; readonly maxActive: number };
}

export async function insertRun(db: Queryable, run: NewRun): Promise<RunRecord> {
  const { rows } = await db.query<RunRow>(
    `INSERT INTO runs (id, workflow_id, workflow_version, state, trigger, params, logical_date, start_time, traceparent, unfinished_tasks, admitted,
                       backfill_id, backfill_max_active)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${runColumns}`,
    [run.id, run.workflowId, run.workflowVersion, run.state, run.trigger, JSON.stringify(run.params), run.logicalDate, run.startTime,
      run.traceparent ?? '', run.taskCount, run.admitted ?? true, run.backfill?.id ?? null, run.backfill?.maxActive ?? null]);
  return toRun(rows[0] as RunRow);
}

export async function getRun(db: Queryable, id: string): Promise<RunRecord | undefined> {
  const { rows } = await db.query<RunRow>({ name: 'skein-get-run', text: `SELECT ${runColumns} FROM runs WHERE id = $1`, values: [id] });
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

/** Logical date of the workflow's latest scheduled run (where its schedule continues from). */
export async function latestScheduledLogicalDate(db: Queryable, workflowId: string): Promise<Date | null> {
  const { rows } = await db.query<{ latest: Date | null }>(
    `SELECT max(logical_date) AS latest FROM runs WHERE workflow_id = $1 AND trigger = 'schedule'`, [workflowId]);
  return rows[0]?.latest ?? null;
}

/**
 * Serialises admission decisions of one workflow (run creation and admission under maxActiveRuns)
 * across scheduler replicas, until the transaction ends.
 */
export async function lockWorkflowAdmission(db: Queryable, workflowId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(736100241, hashtext($1))`, [workflowId]);
}

/** Runs of the workflow that hold a slot: admitted and not ended. */
export async function countActiveRuns(db: Queryable, workflowId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1 AND admitted AND state IN ('queued', 'running')`, [workflowId]);
  return rows[0]?.n ?? 0;
}

/** Active (admitted, not ended) runs of a backfill. */
export async function countActiveBackfillRuns(db: Queryable, backfillId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE backfill_id = $1 AND admitted AND state IN ('queued', 'running')`, [backfillId]);
  return rows[0]?.n ?? 0;
}

/** Runs waiting for a slot, in logical-date order, with their backfill's limit. */
export async function listWaitingRunSlots(db: Queryable, workflowId: string, limit: number): Promise<{ id: string; backfillId: string | null; backfillMaxActive: number | null }[]> {
  const { rows } = await db.query<{ id: string; backfill_id: string | null; backfill_max_active: number | null }>(
    `SELECT id, backfill_id, backfill_max_active FROM runs WHERE workflow_id = $1 AND NOT admitted AND state = 'queued'
      ORDER BY logical_date, create_time, id LIMIT $2`, [workflowId, limit]);
  return rows.map((r) => ({ id: r.id, backfillId: r.backfill_id, backfillMaxActive: r.backfill_max_active }));
}

/** Whether runs of this backfill wait for a slot (its next run must wait behind them, in logical-date order). */
export async function hasWaitingBackfillRuns(db: Queryable, backfillId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM runs WHERE backfill_id = $1 AND NOT admitted AND state = 'queued' LIMIT 1`, [backfillId]);
  return rows.length > 0;
}

/** Runs waiting for a slot, in logical-date order. */
export async function listWaitingRuns(db: Queryable, workflowId: string, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM runs WHERE workflow_id = $1 AND NOT admitted AND state = 'queued' ORDER BY logical_date, create_time, id LIMIT $2`,
    [workflowId, limit]);
  return rows.map((r) => r.id);
}

/** Workflows that have runs waiting for a slot (the admission sweep's work list). */
export async function listWorkflowsWithWaitingRuns(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ workflow_id: string }>(
    `SELECT DISTINCT workflow_id FROM runs WHERE NOT admitted AND state = 'queued'`);
  return rows.map((r) => r.workflow_id);
}

/** Marks a waiting run admitted (its first tasks are dispatched in the same transaction). */
export async function admitRun(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE runs SET admitted = true WHERE id = $1`, [id]);
}

/** The states of the workflow's runs at each of these logical dates (what a backfill skips). */
export async function listRunStatesAtLogicalDates(db: Queryable, workflowId: string, dates: readonly Date[]): Promise<Map<number, RunState[]>> {
  const { rows } = await db.query<{ logical_date: Date; state: RunState }>(
    `SELECT logical_date, state FROM runs WHERE workflow_id = $1 AND logical_date = ANY($2::timestamptz[])`, [workflowId, dates]);
  const states = new Map<number, RunState[]>();
  for (const r of rows) states.set(r.logical_date.getTime(), [...(states.get(r.logical_date.getTime()) ?? []), r.state]);
  return states;
}

/** Runs still going past their deadline (run timeout), oldest deadline first. */
export async function listOverdueRuns(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM runs WHERE deadline IS NOT NULL AND deadline < $1 AND state IN ('queued', 'running') ORDER BY deadline LIMIT $2`,
    [now, limit]);
  return rows.map((r) => r.id);
}

/** Runs of the workflow that are queued (admitted or waiting for a slot) or running. */
export async function countUnendedRuns(db: Queryable, workflowId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1 AND state IN ('queued', 'running')`, [workflowId]);
  return rows[0]?.n ?? 0;
}

export interface RunFilter {
  /** Undefined: every workflow. */
  readonly workflowId?: string;
  readonly state?: RunState;
  /** Created at or after. */
  readonly createdAfter?: Date;
  /** Created before. */
  readonly createdBefore?: Date;
  /** The page starts after this run in (create_time DESC, id DESC) order. */
  readonly after?: { readonly createTime: Date; readonly id: string };
  readonly limit: number;
}

/** Runs newest first, filtered; the (create_time, id) indexes serve the order. */
export async function listRunsFiltered(db: Queryable, filter: RunFilter): Promise<RunRecord[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${runColumns} FROM runs
      WHERE ($1::text IS NULL OR workflow_id = $1)
        AND ($2::text IS NULL OR state = $2)
        AND ($3::timestamptz IS NULL OR create_time >= $3)
        AND ($4::timestamptz IS NULL OR create_time < $4)
        AND ($5::timestamptz IS NULL OR (create_time, id) < ($5, $6::text))
      ORDER BY create_time DESC, id DESC LIMIT $7`,
    [filter.workflowId ?? null, filter.state ?? null, filter.createdAfter ?? null, filter.createdBefore ?? null,
      filter.after?.createTime ?? null, filter.after?.id ?? null, filter.limit]);
  return rows.map(toRun);
}

/**
 * A digest per run of everything WatchRun shows (the run's state and reason, each task's state,
 * each attempt's state and exit code): one indexed query for every watched run at once, so
 * watchers re-read a run only when it changed.
 */
export async function runFingerprints(db: Queryable, runIds: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; fp: string }>(
    `SELECT r.id, md5(concat_ws('|', r.state, r.reason, r.start_time, r.end_time,
        (SELECT string_agg(concat_ws(':', t.task, t.state, t.current_attempt, t.start_time, t.end_time), ',' ORDER BY t.task)
           FROM task_runs t WHERE t.run_id = r.id),
        (SELECT string_agg(concat_ws(':', a.id, a.state, a.exit_code, a.start_time, a.end_time, a.executor), ',' ORDER BY a.id)
           FROM attempts a WHERE a.run_id = r.id))) AS fp
       FROM runs r WHERE r.id = ANY($1::text[])`,
    [runIds]);
  return new Map(rows.map((r) => [r.id, r.fp]));
}
