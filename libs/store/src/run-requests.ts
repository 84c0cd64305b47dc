import type { Queryable } from './db';

/** TriggerRun idempotency keys: a request_id returns its first run for a while. */

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
