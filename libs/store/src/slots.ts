/**
 * Slots under concurrency limits (pools, a workflow's maxActiveTasks). A limited task that becomes
 * ready waits (a slot_waits row with its dispatch already built; task run 'scheduled'); admission —
 * serialised across scheduler replicas by one advisory lock — grants it a lease and moves its dispatch
 * to the outbox; the lease is released when the attempt ends. Tasks without limits never come here.
 */
import type { Queryable } from './db';
import type { OutboxMessage, StoredOutboxMessage } from './outbox';

/** A task that starts waiting for a slot. */
export interface NewSlotWait {
  readonly attemptId: string;
  readonly task: string;
  readonly number: number;
  readonly workflowId: string;
  readonly pool: string | null;
  readonly poolSlots: number;
  readonly maxActiveTasks: number | null;
  readonly priority: number;
  /** The task's own queuedTimeout (ms), counted once it is admitted; null: the scheduler's default. */
  readonly queuedTimeoutMs: number | null;
  readonly waitTime: Date;
  readonly dispatch: OutboxMessage;
}

/** A waiting task as admission sees it. */
export interface SlotWait {
  readonly attemptId: string;
  readonly runId: string;
  readonly task: string;
  readonly number: number;
  readonly workflowId: string;
  readonly pool: string | null;
  readonly poolSlots: number;
  readonly maxActiveTasks: number | null;
  readonly priority: number;
  readonly waitTime: Date;
  /** The task run still waits for this attempt (false: cancelled, retried or its run ended). */
  readonly current: boolean;
}

const ADMISSION_LOCK = 736100242;

/** Serialises slot admission across scheduler replicas (transaction-scoped). */
export async function lockSlotAdmission(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock($1)`, [ADMISSION_LOCK]);
}

/** Takes the admission lock if no other transaction holds it (never waits); true when taken. */
export async function tryLockSlotAdmission(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [ADMISSION_LOCK]);
  return rows[0]?.locked === true;
}

export async function insertSlotWaits(db: Queryable, runId: string, waits: readonly NewSlotWait[]): Promise<void> {
  if (waits.length === 0) return;
  await db.query(
    `INSERT INTO slot_waits (attempt_id, run_id, task, number, workflow_id, pool, pool_slots, max_active_tasks, priority, wait_time,
                             subject, msg_id, payload, headers, queued_timeout_ms)
     SELECT w.attempt_id, $1, w.task, w.number, w.workflow_id, w.pool, w.pool_slots, w.max_active_tasks, w.priority, w.wait_time,
            w.subject, w.msg_id, w.payload, w.headers, w.queued_timeout_ms
       FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[], $8::int[], $9::int[], $10::timestamptz[],
                   $11::text[], $12::text[], $13::bytea[], $14::jsonb[], $15::int[])
            AS w(attempt_id, task, number, workflow_id, pool, pool_slots, max_active_tasks, priority, wait_time, subject, msg_id, payload, headers,
                 queued_timeout_ms)`,
    [runId, waits.map((w) => w.attemptId), waits.map((w) => w.task), waits.map((w) => w.number), waits.map((w) => w.workflowId),
      waits.map((w) => w.pool), waits.map((w) => w.poolSlots), waits.map((w) => w.maxActiveTasks), waits.map((w) => w.priority),
      waits.map((w) => w.waitTime), waits.map((w) => w.dispatch.subject), waits.map((w) => w.dispatch.msgId),
      waits.map((w) => Buffer.from(w.dispatch.payload)), waits.map((w) => JSON.stringify(w.dispatch.headers)), waits.map((w) => w.queuedTimeoutMs)]);
}

/** Releases the slots of attempts that ended; returns how many leases there were. */
export async function releaseSlots(db: Queryable, attemptIds: readonly string[]): Promise<number> {
  if (attemptIds.length === 0) return 0;
  const result = await db.query(`DELETE FROM slot_leases WHERE attempt_id = ANY($1::text[])`, [[...attemptIds]]);
  return result.rowCount ?? 0;
}

/** Drops the waits of a run that ended (cancelled, timed out, abandoned); returns how many. */
export async function deleteRunSlotWaits(db: Queryable, runId: string): Promise<number> {
  const result = await db.query(`DELETE FROM slot_waits WHERE run_id = $1`, [runId]);
  return result.rowCount ?? 0;
}

/** Free slots of every pool that has waiting tasks (negative when a pool shrank below its use). */
export async function poolsWithWaits(db: Queryable): Promise<Map<string, number>> {
  const { rows } = await db.query<{ name: string; free: string }>(
    `SELECT p.name, p.slots - coalesce((SELECT sum(l.pool_slots) FROM slot_leases l WHERE l.pool = p.name), 0) AS free
       FROM pools p WHERE EXISTS (SELECT 1 FROM slot_waits w WHERE w.pool = p.name)`);
  return new Map(rows.map((r) => [r.name, Number(r.free)]));
}

/** Active (leased) tasks per workflow, for the given workflows. */
export async function activeTasksOf(db: Queryable, workflowIds: readonly string[]): Promise<Map<string, number>> {
  if (workflowIds.length === 0) return new Map();
  const { rows } = await db.query<{ workflow_id: string; n: string }>(
    `SELECT workflow_id, count(*) AS n FROM slot_leases WHERE limits_workflow AND workflow_id = ANY($1::text[]) GROUP BY workflow_id`,
    [[...workflowIds]]);
  return new Map(rows.map((r) => [r.workflow_id, Number(r.n)]));
}

/** Workflows with tasks waiting for maxActiveTasks only (no pool). */
export async function workflowsWithWaits(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ workflow_id: string }>(`SELECT DISTINCT workflow_id FROM slot_waits WHERE pool IS NULL`);
  return rows.map((r) => r.workflow_id);
}

interface WaitRow {
  attempt_id: string; run_id: string; task: string; number: number; workflow_id: string; pool: string | null; pool_slots: number;
  max_active_tasks: number | null; priority: number; wait_time: Date; current: boolean;
}

function toWait(r: WaitRow): SlotWait {
  return {
    attemptId: r.attempt_id, runId: r.run_id, task: r.task, number: r.number, workflowId: r.workflow_id, pool: r.pool, poolSlots: r.pool_slots,
    maxActiveTasks: r.max_active_tasks, priority: r.priority, waitTime: r.wait_time, current: r.current,
  };
}

const waitColumns = `w.attempt_id, w.run_id, w.task, w.number, w.workflow_id, w.pool, w.pool_slots, w.max_active_tasks, w.priority, w.wait_time,
  coalesce(tr.state = 'scheduled' AND tr.current_attempt = w.number, false) AS current`;

/** The first waiting tasks of each key (pool, or workflow for pool-less waits), by priority then wait time. */
export async function headsOfQueues(db: Queryable, kind: 'pool' | 'workflow', keys: readonly string[], perKey: readonly number[]): Promise<SlotWait[]> {
  if (keys.length === 0) return [];
  const filter = kind === 'pool' ? `w.pool = k.key` : `w.pool IS NULL AND w.workflow_id = k.key`;
  const { rows } = await db.query<WaitRow>(
    `SELECT h.* FROM unnest($1::text[], $2::int[]) AS k(key, n)
       CROSS JOIN LATERAL (
         SELECT ${waitColumns} FROM slot_waits w LEFT JOIN task_runs tr ON tr.run_id = w.run_id AND tr.task = w.task
          WHERE ${filter} ORDER BY w.priority DESC, w.wait_time, w.attempt_id LIMIT k.n) h`,
    [[...keys], [...perKey]]);
  return rows.map(toWait);
}

/** Drops waits that no longer stand for a waiting task. */
export async function deleteSlotWaits(db: Queryable, attemptIds: readonly string[]): Promise<void> {
  if (attemptIds.length === 0) return;
  await db.query(`DELETE FROM slot_waits WHERE attempt_id = ANY($1::text[])`, [[...attemptIds]]);
}

/** Locks the runs of these waits (in id order, as every multi-run locker must). */
export async function lockRunsOf(db: Queryable, runIds: readonly string[]): Promise<void> {
  if (runIds.length === 0) return;
  await db.query(`SELECT 1 FROM runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [[...new Set(runIds)]]);
}

/**
 * Admits waiting tasks (their runs locked): each still-current one gets its queued attempt, its task run
 * becomes 'queued', it holds a lease, and its dispatch goes to the outbox; the waits are deleted. One
 * statement. Returns the outbox messages to publish, in priority order.
 */
export async function grantSlots(db: Queryable, grants: readonly { attemptId: string; limitsWorkflow: boolean }[], now: Date): Promise<StoredOutboxMessage[]> {
  if (grants.length === 0) return [];
  const { rows } = await db.query<{ id: string; subject: string; msg_id: string; payload: Buffer; headers: Record<string, string> }>(
    `WITH chosen AS (
       SELECT w.*, g.limits_workflow FROM slot_waits w
         JOIN unnest($1::text[], $2::boolean[]) AS g(attempt_id, limits_workflow) ON g.attempt_id = w.attempt_id
         JOIN task_runs tr ON tr.run_id = w.run_id AND tr.task = w.task AND tr.state = 'scheduled' AND tr.current_attempt = w.number
        WHERE w.attempt_id = ANY($1::text[])
     ), dropped AS (
       DELETE FROM slot_waits WHERE attempt_id = ANY($1::text[]) RETURNING 1
     ), attempts_added AS (
       INSERT INTO attempts (id, run_id, task, number, state, queue_time) SELECT attempt_id, run_id, task, number, 'queued', $3 FROM chosen RETURNING 1
     ), task_runs_queued AS (
       UPDATE task_runs tr SET state = 'queued' FROM chosen c WHERE tr.run_id = c.run_id AND tr.task = c.task RETURNING 1
     ), runs_touched AS (
       -- Every writer of task runs writes the run row too (a new row version): a transaction that read the
       -- run's task runs with its lock in one statement, while this one held it, sees that it must read
       -- them again (RunApplier.applyEvents, lockRunReadingTaskRuns).
       UPDATE runs r SET state = r.state FROM (SELECT DISTINCT run_id FROM chosen) c WHERE r.id = c.run_id RETURNING 1
     ), deadlines AS (
       INSERT INTO attempt_queue_deadlines (attempt_id, deadline, timeout_ms)
       SELECT attempt_id, $3::timestamptz + make_interval(secs => queued_timeout_ms / 1000.0), queued_timeout_ms FROM chosen
        WHERE queued_timeout_ms IS NOT NULL RETURNING 1
     ), leased AS (
       INSERT INTO slot_leases (attempt_id, run_id, workflow_id, pool, pool_slots, limits_workflow, grant_time)
       SELECT attempt_id, run_id, workflow_id, pool, pool_slots, limits_workflow, $3 FROM chosen RETURNING 1
     ), sent AS (
       INSERT INTO outbox (subject, msg_id, payload, headers)
       SELECT subject, msg_id, payload, headers FROM chosen ORDER BY priority DESC, wait_time, attempt_id
       RETURNING id, subject, msg_id, payload, headers
     )
     SELECT id, subject, msg_id, payload, headers FROM sent ORDER BY id`,
    [grants.map((g) => g.attemptId), grants.map((g) => g.limitsWorkflow), now]);
  return rows.map((r) => ({ id: Number(r.id), subject: r.subject, msgId: r.msg_id, payload: new Uint8Array(r.payload), headers: r.headers }));
}

/**
 * The backstop for paths that end attempts or runs without releasing (a crash between commits cannot
 * cause one: releases commit with the end; this covers paths outside the scheduler, e.g. abandonment):
 * leases of attempts no longer queued or running, and waits whose task run stopped waiting for them.
 * Returns how many rows went.
 */
export async function reconcileSlots(db: Queryable): Promise<number> {
  const leases = await db.query(
    `DELETE FROM slot_leases l WHERE NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = l.attempt_id AND a.state IN ('queued', 'running'))`);
  const waits = await db.query(
    `DELETE FROM slot_waits w WHERE NOT EXISTS (
       SELECT 1 FROM task_runs tr WHERE tr.run_id = w.run_id AND tr.task = w.task AND tr.state = 'scheduled' AND tr.current_attempt = w.number)`);
  return (leases.rowCount ?? 0) + (waits.rowCount ?? 0);
}

