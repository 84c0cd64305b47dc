import type { RunState } from '@skein/domain';
import type { Queryable } from './db';
import { encodeOutboxBatch } from './outbox-batch';
import type { OutboxMessage } from './outbox';
import { intArray } from './pg-array';
import { newAttemptArrays, taskRunArrays, type NewAttemptRow, type TaskRunWrite } from './run-changes';
import { runColumns, toRun, type NewRun, type RunRecord, type RunRow } from './runs';

/** Everything a new run's creation decided: written by {@link insertRunWithChanges} in one statement. */
export interface NewRunWrite {
  /** `taskCount` is the number of task runs; `state` and `startTime` are decided from the fields below. */
  readonly run: Omit<NewRun, 'state' | 'startTime'>;
  /** Every task run of the run, in position order (the position is the index), as the creation left it. */
  readonly taskRuns: readonly TaskRunWrite[];
  readonly newAttempts: readonly NewAttemptRow[];
  readonly outbox: readonly OutboxMessage[];
  /** Outbox rows already published, deleted by this statement (see `RunChanges.deleteOutbox`). */
  readonly deleteOutbox?: readonly number[];
  /**
   * The run's counters as its creation moved them (tasks skipped by `when:` or failed by a template end at
   * once): unfinished tasks are `taskCount + unfinishedDelta`.
   */
  readonly counters: { readonly unfinishedDelta: number; readonly failed: number; readonly cancelled: number };
  /** Set when the run ended at creation (every task skipped or failed before it ran): it starts and ends then. */
  readonly end: { readonly state: RunState; readonly time: Date; readonly reason: string } | null;
  /** When the run times out, if it has a timeout and was admitted. */
  readonly deadline: Date | null;
}

/** The statement's text; a scheduled run is created once per (workflow, logical date). */
function createText(scheduled: boolean): string {
  const onConflict = scheduled ? `ON CONFLICT (workflow_id, logical_date) WHERE trigger = 'schedule' DO NOTHING` : '';
  // Every other insert joins the new run: when a scheduled run already existed nothing at all is written.
  // Foreign keys are checked at the end of the statement, when the sibling inserts are visible.
  return `
    WITH new_run AS (
      INSERT INTO runs (id, workflow_id, workflow_version, state, trigger, params, logical_date, start_time, end_time, reason, traceparent,
                        unfinished_tasks, failed_tasks, cancelled_tasks, deadline, admitted, backfill_id, backfill_max_active)
      VALUES ($1, $2, $3, coalesce($4::text, 'queued'), $5, $6::jsonb, $7, $8, $8, coalesce($9::text, ''), $10, $11, $12, $13, $14, $15, $16, $17)
      ${onConflict}
      RETURNING ${runColumns}
    ), new_task_runs AS (
      INSERT INTO task_runs (run_id, task, position, state, current_attempt, failed_attempts, retry_at, start_time, end_time, upstream_total,
                             upstream_succeeded, upstream_failed, upstream_upstream_failed, upstream_skipped, upstream_cancelled)
      SELECT new_run.id, w.task, w.ord - 1, w.state, w.current_attempt, w.failed_attempts, w.retry_at, w.start_time, w.end_time, w.t,
             w.s, w.f, w.uf, w.k, w.c
        FROM unnest($18::text[], $19::text[], $20::int[], $21::timestamptz[], $22::timestamptz[], $23::timestamptz[],
                    $24::int[], $25::int[], $26::int[], $27::int[], $28::int[], $29::int[], $30::int[]) WITH ORDINALITY
             AS w(task, state, current_attempt, retry_at, start_time, end_time, s, f, uf, k, c, failed_attempts, t, ord), new_run
    ), new_attempts AS (
      INSERT INTO attempts (id, run_id, task, number, state, queue_time, reason, message, end_time)
      SELECT i.id, new_run.id, i.task, i.number, i.state, i.queue_time, i.reason, i.message, i.end_time
        FROM unnest($31::text[], $32::text[], $33::int[], $34::text[], $35::timestamptz[], $36::text[], $37::text[], $38::timestamptz[])
             AS i(id, task, number, state, queue_time, reason, message, end_time), new_run
    ), new_outbox AS (
      -- One batch row holding every dispatch (0013_outbox_batches.sql), sent binary; none when $39 is NULL.
      INSERT INTO outbox (subject, msg_id, payload, headers, batch)
      SELECT '', '', $39::bytea, '{}', true FROM new_run WHERE $39::bytea IS NOT NULL
      RETURNING id
    ), deleted_outbox AS (
      DELETE FROM outbox WHERE id = ANY($40::bigint[])
    )
    SELECT new_run.*, ARRAY(SELECT id FROM new_outbox)::text[] AS outbox_ids FROM new_run`;
}

const createdText = createText(false);
const scheduledText = createText(true);

/**
 * Creates a run in ONE statement: the run row with its counters and state as its creation left them,
 * every task run, the first attempts and their dispatches' outbox row (and deletes outbox rows already
 * sent). Inserting the run, then updating it in the same transaction, made PostgreSQL check the run's
 * foreign key to its workflow version twice (it re-checks a row its own transaction inserted), each
 * check a `FOR KEY SHARE` lock on the one `workflow_versions` row every new run of the workflow
 * shares — and runs created at once turn those into MultiXacts.
 *
 * Returns the run as written and, for each outbox message in order, the id of the row holding it; undefined
 * for a scheduled run that already existed (nothing was written but the deletion of sent rows).
 */
export async function insertRunWithChanges(db: Queryable, w: NewRunWrite): Promise<{ run: RunRecord; outboxIds: number[] } | undefined> {
  const { run, end } = w;
  const t = w.taskRuns;
  const batch = w.outbox.length === 0 ? null : encodeOutboxBatch(w.outbox);
  const scheduled = run.trigger === 'schedule';
  const { rows } = await db.query<RunRow & { outbox_ids: string[] }>({
    name: scheduled ? 'skein-create-scheduled-run' : 'skein-create-run',
    text: scheduled ? scheduledText : createdText,
    values: [
      run.id, run.workflowId, run.workflowVersion, end?.state ?? null, run.trigger, JSON.stringify(run.params), run.logicalDate, end?.time ?? null,
      end?.reason ?? null, run.traceparent ?? '', run.taskCount + w.counters.unfinishedDelta, w.counters.failed, w.counters.cancelled, w.deadline,
      run.admitted ?? true, run.backfill?.id ?? null, run.backfill?.maxActive ?? null,
      ...taskRunArrays(t), intArray(t.map((x) => x.failedAttempts)), intArray(t.map((x) => x.upstream.total)),
      ...newAttemptArrays(w.newAttempts),
      batch, intArray(w.deleteOutbox ?? []),
    ],
  });
  const row = rows[0];
  if (row === undefined) return undefined;
  const id = row.outbox_ids[0];
  return { run: toRun(row), outboxIds: id === undefined ? [] : w.outbox.map(() => Number(id)) };
}
