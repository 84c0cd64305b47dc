import type { Pool } from 'pg';
import { withTransaction } from './db';

/**
 * Ends a run the scheduler cannot process (its events keep failing: say, a spec written by a newer
 * Skein): FAILED with the reason, every unfinished task and attempt CANCELLED. Plain statements that do
 * not depend on the run's spec, since that may be what fails. Returns the attempts executors must stop;
 * nothing when the run had already ended. Like every writer of task runs it writes the run row first
 * (see `lockRunReadingTaskRuns`).
 */
export async function abandonRun(pool: Pool, runId: string, reason: string): Promise<string[]> {
  return withTransaction(pool, async (tx) => {
    const run = await tx.query(`UPDATE runs SET state = 'failed', end_time = now(), reason = $2, unfinished_tasks = 0
                                 WHERE id = $1 AND state IN ('queued', 'running')`, [runId, reason]);
    if (run.rowCount !== 1) return [];
    await tx.query(`UPDATE task_runs SET state = 'cancelled', end_time = now()
                     WHERE run_id = $1 AND state NOT IN ('succeeded', 'failed', 'skipped', 'upstream_failed', 'cancelled')`, [runId]);
    const { rows } = await tx.query<{ id: string }>(
      `UPDATE attempts SET state = 'cancelled', reason = 'RUN_ABANDONED', message = $2, end_time = now()
        WHERE run_id = $1 AND state IN ('queued', 'running') RETURNING id`, [runId, reason]);
    // Slots: the run's waiting tasks stop waiting, its attempts' leases are released.
    await tx.query(`DELETE FROM slot_waits WHERE run_id = $1`, [runId]);
    await tx.query(`DELETE FROM slot_leases WHERE run_id = $1`, [runId]);
    return rows.map((r) => r.id);
  });
}
