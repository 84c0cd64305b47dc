import type { RunState } from '@skein/domain';
import type { Queryable, RunRecord, WorkflowVersionRecord } from '@skein/store';

/**
 * Queries only the api service runs: version listing, workflow deletion, filtered run listing,
 * TriggerRun idempotency keys and WatchRun's change detection. One parameterised query per function.
 *
 * They live here rather than in libs/store because the api is their only caller and this change
 * owned apps/api; they read the store's tables through its `Queryable` and should move to
 * libs/store when someone next works there.
 */

/** RunRecord's fields selected under their record names, so a row is a RunRecord as it is. */
const RUN_RECORD_COLUMNS = `id, workflow_id AS "workflowId", workflow_version AS "workflowVersion", state, trigger, params,
  logical_date AS "logicalDate", create_time AS "createTime", start_time AS "startTime", end_time AS "endTime", reason,
  traceparent, unfinished_tasks AS "unfinishedTasks", failed_tasks AS "failedTasks", cancelled_tasks AS "cancelledTasks", admitted`;

/** A workflow's versions, newest first, those older than `beforeVersion` when given. */
export async function listWorkflowVersionsPage(db: Queryable, workflowId: string, limit: number, beforeVersion?: number): Promise<WorkflowVersionRecord[]> {
  const { rows } = await db.query<WorkflowVersionRecord>(
    `SELECT workflow_id AS "workflowId", version, spec, digest, create_time AS "createTime" FROM workflow_versions
      WHERE workflow_id = $1 AND ($2::int IS NULL OR version < $2)
      ORDER BY version DESC LIMIT $3`,
    [workflowId, beforeVersion ?? null, limit]);
  return rows;
}

/** Runs of the workflow that are queued (admitted or waiting for a slot) or running. */
export async function countUnendedRuns(db: Queryable, workflowId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE workflow_id = $1 AND state IN ('queued', 'running')`, [workflowId]);
  return rows[0]?.n ?? 0;
}

/**
 * Deletes the workflow's runs (their task runs, attempts and idempotency keys cascade), then the
 * workflow (its versions cascade). Run it in a transaction holding the workflow's row lock.
 */
export async function deleteWorkflowAndRuns(db: Queryable, workflowId: string): Promise<void> {
  await db.query(`DELETE FROM runs WHERE workflow_id = $1`, [workflowId]);
  await db.query(`DELETE FROM workflows WHERE id = $1`, [workflowId]);
}

/** Locks the workflow's row (FOR UPDATE); false when it does not exist. */
export async function lockWorkflowRow(db: Queryable, workflowId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM workflows WHERE id = $1 FOR UPDATE`, [workflowId]);
  return rows.length > 0;
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
  const { rows } = await db.query<RunRecord>(
    `SELECT ${RUN_RECORD_COLUMNS} FROM runs
      WHERE ($1::text IS NULL OR workflow_id = $1)
        AND ($2::text IS NULL OR state = $2)
        AND ($3::timestamptz IS NULL OR create_time >= $3)
        AND ($4::timestamptz IS NULL OR create_time < $4)
        AND ($5::timestamptz IS NULL OR (create_time, id) < ($5, $6::text))
      ORDER BY create_time DESC, id DESC LIMIT $7`,
    [filter.workflowId ?? null, filter.state ?? null, filter.createdAfter ?? null, filter.createdBefore ?? null,
      filter.after?.createTime ?? null, filter.after?.id ?? null, filter.limit]);
  return rows;
}

/** How long a TriggerRun request_id keeps returning its first run. */
export const REQUEST_ID_TTL_HOURS = 24;

/** The run a request_id created within the last 24 hours. */
export async function findRequestRun(db: Queryable, workflowId: string, requestId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ run_id: string }>(
    `SELECT run_id FROM run_requests
      WHERE workflow_id = $1 AND request_id = $2 AND create_time > now() - make_interval(hours => $3)`,
    [workflowId, requestId, REQUEST_ID_TTL_HOURS]);
  return rows[0]?.run_id;
}

/**
 * Serialises TriggerRuns of one (workflow, request_id) until the transaction ends, so two
 * concurrent retries of the same request create one run.
 */
export async function lockRequestId(db: Queryable, workflowId: string, requestId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(736100242, hashtext($1 || '/' || $2))`, [workflowId, requestId]);
}

/** Records the run a request_id created (replacing an expired key), and drops the workflow's expired keys. */
export async function recordRequestRun(db: Queryable, workflowId: string, requestId: string, runId: string): Promise<void> {
  await db.query(
    `INSERT INTO run_requests (workflow_id, request_id, run_id) VALUES ($1, $2, $3)
       ON CONFLICT (workflow_id, request_id) DO UPDATE SET run_id = EXCLUDED.run_id, create_time = now()`,
    [workflowId, requestId, runId]);
  await db.query(
    `DELETE FROM run_requests WHERE workflow_id = $1 AND create_time < now() - make_interval(hours => $2)`,
    [workflowId, REQUEST_ID_TTL_HOURS]);
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
