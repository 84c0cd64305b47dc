import type { AttemptState, RunState, TaskRunState } from '@skein/domain';
import { Pool } from 'pg';
import { isPlannedOnce, withTransaction, type Queryable } from './db';
import { encodeOutboxBatch } from './outbox-batch';
import { intArray, textArray, timestampArray } from './pg-array';
import type { OutboxMessage } from './outbox';
import { prefixedRunSelect, qualified, runRow, type RunSnapshot } from './lock-run-read-task-runs';
import { toRun } from './runs';
import { taskRunColumns, toTaskRun, type TaskRunRow, type UpstreamCounts } from './task-runs';

/** The new values of an existing attempt that is not yet terminal. */
export interface AttemptUpdate {
  readonly id: string;
  readonly state: AttemptState;
  readonly exitCode: number | null;
  readonly reason: string;
  readonly message: string;
  readonly outputs: Record<string, unknown> | null;
  /** '' keeps the recorded executor. */
  readonly executor: string;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
}

/** A new attempt: queued (to dispatch) or already failed (e.g. its templates could not be rendered). */
export interface NewAttemptRow {
  readonly id: string;
  readonly task: string;
  readonly number: number;
  readonly state: AttemptState;
  readonly queueTime: Date;
  readonly reason: string;
  readonly message: string;
  readonly endTime: Date | null;
}

/** A task run's full new state, counters included. */
export interface TaskRunWrite {
  readonly task: string;
  readonly state: TaskRunState;
  readonly currentAttempt: number;
  readonly failedAttempts: number;
  readonly retryAt: Date | null;
  readonly startTime: Date | null;
  readonly endTime: Date | null;
  readonly upstream: UpstreamCounts;
}

export interface RunChanges {
  readonly runId: string;
  readonly attempts: readonly AttemptUpdate[];
  readonly newAttempts: readonly NewAttemptRow[];
  readonly taskRuns: readonly TaskRunWrite[];
  readonly outbox: readonly OutboxMessage[];
  /**
   * Outbox rows already published (by earlier transactions), deleted by this statement instead of a
   * statement (and a commit) of their own. If the transaction rolls back they stay, and the outbox
   * sweeper re-publishes them (the stream drops the duplicates).
   */
  readonly deleteOutbox?: readonly number[];
  readonly run: {
    readonly unfinishedDelta: number;
    readonly failedDelta: number;
    readonly cancelledDelta: number;
    /** Set when work on the run began: QUEUED → RUNNING. */
    readonly startedAt: Date | null;
    /** Set when the run ended. */
    readonly end: { readonly state: RunState; readonly time: Date; readonly reason: string } | null;
    /** The run ended and runs again (tasks retried): RUNNING, no end time, no reason. */
    readonly reopen?: boolean;
    /** When the run times out (set as it is admitted or reopened). */
    readonly deadline?: Date | null;
  };
}

/** The one statement's text: unconditional, or guarded by the run row's version (see `writeRunChangesIf`). */
function changesText(guarded: boolean): string {
  const guard = guarded ? ' AND xmin = $45::text::xid' : '';
  const runReturning = guarded ? `*, xmin::text AS version` : 'id';
  // Every data-modifying CTE runs exactly once whether or not it is read. The attempts and task runs
  // are found by the arrays of keys (`= ANY(...)`), not only by the join with `unnest`: a run's
  // statements are planned when its tables were small (and plans are cached), and a join alone let
  // the planner read every task run of the run and scan every attempt, per event (a seq scan of
  // 20,000 attempts after a large run): with the keys as index conditions the plan reads the rows it
  // writes, however stale the statistics.
  const tail = guarded
    ? `, kept AS (
      SELECT * FROM task_runs WHERE run_id = $1 AND task = ANY($46::text[]) AND NOT task = ANY($19::text[])
    ), after AS (
      SELECT x.*, row_number() OVER () AS n
        FROM (SELECT * FROM updated_task_runs WHERE task = ANY($46::text[]) UNION ALL SELECT * FROM kept) x
    )
    -- One row per task run kept (at least one row); the outbox ids only in the first.
    SELECT ${prefixedRunSelect('u')}, u.version, ${qualified('t', taskRunColumns)},
           CASE WHEN coalesce(t.n, 1) = 1 THEN ARRAY(SELECT id FROM inserted_outbox ORDER BY id)::text[] END AS outbox_ids
      FROM updated_run u LEFT JOIN after t ON true
     ORDER BY t.n NULLS FIRST`
    : `
    SELECT ARRAY(SELECT id FROM inserted_outbox ORDER BY id)::text[] AS outbox_ids FROM updated_run`;
  return `
    WITH updated_run AS (
      UPDATE runs
         SET unfinished_tasks = unfinished_tasks + $33, failed_tasks = failed_tasks + $34, cancelled_tasks = cancelled_tasks + $35,
             state = CASE WHEN $37::text IS NOT NULL THEN $37::text WHEN $42::boolean THEN 'running'
                          WHEN $36::timestamptz IS NOT NULL AND state = 'queued' THEN 'running' ELSE state END,
             start_time = coalesce(start_time, $36::timestamptz, $38::timestamptz),
             end_time = CASE WHEN $38::timestamptz IS NOT NULL THEN $38::timestamptz WHEN $42::boolean THEN NULL ELSE end_time END,
             reason = CASE WHEN $39::text IS NOT NULL THEN $39::text WHEN $42::boolean THEN '' ELSE reason END,
             deadline = coalesce($43::timestamptz, deadline),
             retries = retries + CASE WHEN $42::boolean THEN 1 ELSE 0 END,
             retry_time = CASE WHEN $42::boolean THEN statement_timestamp() ELSE retry_time END
       WHERE id = $1${guard}
      RETURNING ${runReturning}
    ), updated_attempts AS (
      -- An attempt already ended keeps its values. Not a WHERE condition: most attempts of a database
      -- have ended, so the planner would count ~1 attempt to update and loop over the batch per row.
      UPDATE attempts AS x
         SET state = CASE WHEN x.state IN ('queued', 'running') THEN u.state ELSE x.state END,
             exit_code = CASE WHEN x.state IN ('queued', 'running') THEN u.exit_code ELSE x.exit_code END,
             reason = CASE WHEN x.state IN ('queued', 'running') THEN u.reason ELSE x.reason END,
             message = CASE WHEN x.state IN ('queued', 'running') THEN u.message ELSE x.message END,
             outputs = CASE WHEN x.state IN ('queued', 'running') THEN u.outputs ELSE x.outputs END,
             executor = CASE WHEN x.state NOT IN ('queued', 'running') OR u.executor = '' THEN x.executor ELSE u.executor END,
             start_time = CASE WHEN x.state IN ('queued', 'running') THEN coalesce(x.start_time, u.start_time, u.end_time) ELSE x.start_time END,
             end_time = CASE WHEN x.state IN ('queued', 'running') THEN u.end_time ELSE x.end_time END
        FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::timestamptz[], $10::timestamptz[])
             AS u(id, state, exit_code, reason, message, outputs, executor, start_time, end_time), updated_run
       WHERE x.id = ANY($2::text[]) AND x.id = u.id
      RETURNING 1
    ), inserted_attempts AS (
      INSERT INTO attempts (id, run_id, task, number, state, queue_time, reason, message, end_time)
      SELECT i.id, $1, i.task, i.number, i.state, i.queue_time, i.reason, i.message, i.end_time
        FROM unnest($11::text[], $12::text[], $13::int[], $14::text[], $15::timestamptz[], $16::text[], $17::text[], $18::timestamptz[])
             AS i(id, task, number, state, queue_time, reason, message, end_time), updated_run
      RETURNING 1
    ), updated_task_runs AS (
      UPDATE task_runs AS tr
         SET state = w.state, current_attempt = w.current_attempt, failed_attempts = w.failed_attempts, retry_at = w.retry_at,
             start_time = coalesce(tr.start_time, w.start_time), end_time = w.end_time,
             upstream_succeeded = w.s, upstream_failed = w.f, upstream_upstream_failed = w.uf, upstream_skipped = w.k, upstream_cancelled = w.c
        FROM unnest($19::text[], $20::text[], $21::int[], $22::timestamptz[], $23::timestamptz[], $24::timestamptz[],
                    $25::int[], $26::int[], $27::int[], $28::int[], $29::int[], $41::int[])
             AS w(task, state, current_attempt, retry_at, start_time, end_time, s, f, uf, k, c, failed_attempts), updated_run
       WHERE tr.run_id = $1 AND tr.task = ANY($19::text[]) AND tr.task = w.task
      RETURNING tr.*
    ), inserted_outbox AS (
      -- The write's one batch row (none when $32 is NULL): the batch goes as a binary parameter, not in an
      -- array literal (a 5,000-task run's megabyte of dispatches would go as two megabytes of hex to parse).
      INSERT INTO outbox (subject, msg_id, payload, headers, batch)
      SELECT $30::text, $31::text, $32::bytea, $40::jsonb, true FROM updated_run WHERE $32::bytea IS NOT NULL
      RETURNING id
    ), deleted_outbox AS (
      DELETE FROM outbox WHERE id = ANY($44::bigint[])
    )${tail}`;
}

const unguardedText = changesText(false);
const guardedText = changesText(true);

/**
 * Rows per kind up to which the statement is prepared under a name and planned once (a generic plan,
 * every array estimated at 10 elements, nested loops over index lookups): a chain hop's one or two
 * events, a layer of a layered DAG and its downstream counters. A nested loop may pass over the batch
 * once per row: at most 64 × 64 rows (~0.1 ms), less than planning the statement for its values
 * (2–4 ms for a few dozen rows). A larger batch (a fan-in of hundreds) is planned for its own arrays,
 * without nested loops: a new run's id is never in the statistics, so the planner counts ~1 task run to
 * update and would loop over the whole batch per row (quadratic: 70 ms for 325 events). Hash joins are
 * linear whatever the estimates; the planning and the transaction around it are shared by the batch.
 */
const PREPARED_ROWS = 64;

function isLarge(c: RunChanges, keep: readonly string[] = []): boolean {
  // The outbox is one row whatever the number of messages.
  return Math.max(c.attempts.length, c.newAttempts.length, c.taskRuns.length, c.deleteOutbox?.length ?? 0, keep.length) > PREPARED_ROWS;
}

/**
 * Runs `fn` with its statements planned for their values, without nested loops: in a transaction of
 * its own when `db` is a pool (the guarded write stays one atomic statement), or for the rest of the
 * caller's statement inside its transaction.
 */
async function withoutNestedLoops<T>(db: Queryable, fn: (q: Queryable) => Promise<T>): Promise<T> {
  const plan = 'SET LOCAL enable_nestloop = off; SET LOCAL plan_cache_mode = force_custom_plan';
  if (!(db instanceof Pool)) {
    await db.query(plan);
    const result = await fn(db);
    await db.query('SET LOCAL enable_nestloop TO DEFAULT; SET LOCAL plan_cache_mode TO DEFAULT');
    return result;
  }
  return withTransaction(db, async (client) => {
    await client.query(plan);
    return fn(client);
  });
}

/** The parameters of new attempts, as arrays: id, task, number, state, queue time, reason, message, end time. */
export function newAttemptArrays(n: readonly NewAttemptRow[]): string[] {
  return [
    textArray(n.map((x) => x.id)), textArray(n.map((x) => x.task)), intArray(n.map((x) => x.number)), textArray(n.map((x) => x.state)),
    timestampArray(n.map((x) => x.queueTime)), textArray(n.map((x) => x.reason)), textArray(n.map((x) => x.message)),
    timestampArray(n.map((x) => x.endTime)),
  ];
}

/**
 * The parameters of task-run writes, as arrays: task, state, current attempt, retry at, start, end, and the
 * upstream counters succeeded, failed, upstream failed, skipped, cancelled.
 */
export function taskRunArrays(t: readonly TaskRunWrite[]): string[] {
  return [
    textArray(t.map((x) => x.task)), textArray(t.map((x) => x.state)), intArray(t.map((x) => x.currentAttempt)),
    timestampArray(t.map((x) => x.retryAt)), timestampArray(t.map((x) => x.startTime)), timestampArray(t.map((x) => x.endTime)),
    intArray(t.map((x) => x.upstream.succeeded)), intArray(t.map((x) => x.upstream.failed)), intArray(t.map((x) => x.upstream.upstreamFailed)),
    intArray(t.map((x) => x.upstream.skipped)), intArray(t.map((x) => x.upstream.cancelled)),
  ];
}

function changeValues(c: RunChanges): unknown[] {
  const a = c.attempts;
  const t = c.taskRuns;
  const batch = c.outbox.length === 0 ? null : encodeOutboxBatch(c.outbox);
  // Arrays as literals built in one pass (see pg-array.ts): a 5,000-task run's write is most of what
  // the scheduler allocates otherwise.
  return [
      c.runId,
      textArray(a.map((x) => x.id)), textArray(a.map((x) => x.state)), intArray(a.map((x) => x.exitCode)), textArray(a.map((x) => x.reason)),
      textArray(a.map((x) => x.message)), textArray(a.map((x) => (x.outputs === null ? null : JSON.stringify(x.outputs)))),
      textArray(a.map((x) => x.executor)), timestampArray(a.map((x) => x.startTime)), timestampArray(a.map((x) => x.endTime)),
      ...newAttemptArrays(c.newAttempts),
      ...taskRunArrays(t),
      // The outbox: one batch row holding every message (0013_outbox_batches.sql), none when there are none.
      // The batch row: no subject or message id of its own; its payload, sent binary.
      '', '', batch,
      c.run.unfinishedDelta, c.run.failedDelta, c.run.cancelledDelta, c.run.startedAt, c.run.end?.state ?? null, c.run.end?.time ?? null,
      c.run.end ? c.run.end.reason : null,
      '{}',
      intArray(t.map((x) => x.failedAttempts)),
      c.run.reopen ?? false,
      c.run.deadline ?? null,
      intArray(c.deleteOutbox ?? []),
  ];
}

/**
 * Writes everything one scheduler transaction decided — attempt updates, new attempts, task-run
 * states and counters, outbox messages, the run's counters and state — in ONE statement (the hot path
 * is a handful of round trips). Returns, for each outbox message in the order given, the id of the
 * outbox row that holds it (one row holds them all).
 *
 * The run row is updated every time, even when no counter moves: `lockRunReadingTaskRuns` and
 * `writeRunChangesIf` rely on every writer of task runs also writing the run row, to notice a writer
 * that committed in between. Every other change joins the run's update, so none happens without it.
 */
export async function writeRunChanges(db: Queryable, c: RunChanges): Promise<number[]> {
  const values = changeValues(c);
  const { rows } = isLarge(c)
    ? await withoutNestedLoops(db, (q) => q.query<{ outbox_ids: string[] }>(unguardedText, values))
    : await db.query<{ outbox_ids: string[] }>({ name: 'skein-write-run-changes', text: unguardedText, values });
  const row = rows[0];
  if (row === undefined) throw new Error(`run ${c.runId} does not exist: its changes were not written`);
  return outboxIdsOf(c, row.outbox_ids);
}

/** For each outbox message of `c`, the id of the batch row written for them (`ids`: that row's, if any). */
function outboxIdsOf(c: RunChanges, ids: readonly string[]): number[] {
  const id = ids[0];
  return id === undefined ? [] : c.outbox.map(() => Number(id));
}

/** What a guarded write wrote: its outbox rows, and the run as it now is (for the next event's write). */
export interface GuardedWrite {
  /** For each outbox message, in order, the id of the row holding it. */
  readonly outboxIds: number[];
  /** The run row after the write, its new version, and the task runs named in `keep` as they now are. */
  readonly after: RunSnapshot;
}

/**
 * {@link writeRunChanges} in one autocommitted statement that applies only if the run row is still
 * at `ifVersion` (its `xmin`, from `readRunSnapshot` or an earlier guarded write): the optimistic hot
 * path. When a writer changed the run meanwhile nothing is written (sent outbox rows are still
 * deleted: they are published either way) and the result is undefined.
 *
 * Returns the run row as written, with its new version, and the task runs named in `keep` (written by
 * it or not), all as of this write: the next event of the run can be decided from them without a read.
 */
export async function writeRunChangesIf(db: Queryable, c: RunChanges, ifVersion: string, keep: readonly string[]): Promise<GuardedWrite | undefined> {
  type Row = { version: string; outbox_ids: string[]; task: string | null } & Record<string, unknown>;
  const { nestedLoops, ...query } = guardedRunChangesQuery(c, ifVersion, keep);
  const { rows } = isPlannedOnce(db)
    // Any batch: one generic plan without nested loops, made once per connection.
    ? await db.query<Row>({ ...query, name: 'skein-write-run-changes-if' })
    : nestedLoops ? await db.query<Row>(query) : await withoutNestedLoops(db, (q) => q.query<Row>(query));
  const first = rows[0];
  if (first === undefined) return undefined;
  const taskRuns = first.task === null ? [] : rows.map((row) => toTaskRun(row as unknown as TaskRunRow));
  return { outboxIds: outboxIdsOf(c, first.outbox_ids), after: { run: toRun(runRow(first)), version: first.version, taskRuns } };
}

/**
 * The statement {@link writeRunChangesIf} sends on a pool not made `plannedOnce` (its plan is tested: it
 * must read only what it writes): named (prepared once) for a small batch; unnamed for a large one,
 * sent with nested loops off. On a `plannedOnce` pool (the scheduler's hot path) every batch goes
 * under the name: one generic plan without nested loops.
 */
export function guardedRunChangesQuery(c: RunChanges, ifVersion: string, keep: readonly string[]): { name?: string; text: string; values: unknown[]; nestedLoops: boolean } {
  const values = [...changeValues(c), ifVersion, textArray(keep)];
  return isLarge(c, keep) ? { text: guardedText, values, nestedLoops: false } : { name: 'skein-write-run-changes-if', text: guardedText, values, nestedLoops: true };
}
