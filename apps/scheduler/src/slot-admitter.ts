import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import {
  activeTasksOf, deleteSlotWaits, grantSlots, headsOfQueues, lockRunsOf, lockSlotAdmission, poolsWithWaits, reconcileSlots,
  withTransaction, workflowsWithWaits, type SlotWait, type StoredOutboxMessage,
} from '@skein/store';

export interface SlotAdmitterOptions {
  readonly pool: Pool;
  readonly logger: Logger;
  /** Publishes the dispatches of admitted tasks (after their transaction committed). */
  readonly publish: (messages: StoredOutboxMessage[]) => Promise<void>;
  /** Look for waiting tasks and free slots this often, whatever this replica was told. @default 2000 */
  readonly sweepIntervalMs?: number;
  /** Drop leases and waits left by paths outside the scheduler this often. @default 30000 */
  readonly reconcileIntervalMs?: number;
}

/** Waiting tasks read per queue beyond its free slots (to step over stale waits and workflow-blocked tasks). */
const HEAD_MARGIN = 32;
/** Waiting tasks of one workflow read per pass for maxActiveTasks. */
const WORKFLOW_HEADS = 256;

/**
 * Admits tasks waiting for a slot — of their pool, and of their workflow's maxActiveTasks — highest
 * priority first, then longest waiting. One admission transaction at a time across all replicas (an
 * advisory lock), so limits hold however many schedulers run; within a pool, a task that does not fit
 * holds back the lower-priority tasks behind it, so a task needing many slots is not starved. Passes
 * are coalesced: a request during a pass runs one more pass after it.
 */
export class SlotAdmitter {
  private timer: NodeJS.Timeout | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: SlotAdmitterOptions) {}

  start(): void {
    this.timer = setInterval(() => this.request(), this.options.sweepIntervalMs ?? 2000);
    this.timer.unref();
    this.reconcileTimer = setInterval(() => {
      reconcileSlots(this.options.pool).then((n) => {
        if (n > 0) {
          this.options.logger.warn({ rows: n }, 'released slots and waits left behind');
          this.request();
        }
      }, (err) => this.options.logger.warn({ err }, 'slot reconciliation failed'));
    }, this.options.reconcileIntervalMs ?? 30_000);
    this.reconcileTimer.unref();
    this.request();
  }

  /** Asks for an admission pass soon (slots were released or tasks started waiting). */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no pass is running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        const { granted, stale } = await this.pass();
        if (stale > 0) this.again = true;
        if (granted > 0) this.options.logger.debug({ granted }, 'tasks admitted to slots');
      } catch (err) {
        this.options.logger.warn({ err }, 'slot admission failed; the next pass retries');
      }
    } while (this.again && !this.stopped);
  }

  /** One admission transaction; returns how many tasks got slots and how many stale waits went. */
  async pass(): Promise<{ granted: number; stale: number }> {
    const { messages, stale } = await withTransaction(this.options.pool, async (tx) => {
      await lockSlotAdmission(tx);
      return admitSlots(tx);
    });
    await this.options.publish(messages);
    return { granted: messages.length, stale };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.idle();
  }
}

/**
 * Admits what fits now, inside a transaction that holds the admission lock: the admitter's passes, and
 * the scheduler's own transaction that released slots or made tasks wait, when it can take the lock
 * without waiting (then a freed slot goes to the next task in the same commit). The dispatches are in
 * the outbox; the caller publishes them after commit.
 */
export async function admitSlots(tx: PoolClient): Promise<{ messages: StoredOutboxMessage[]; stale: number }> {
  const poolFree = await poolsWithWaits(tx);
  const open = [...poolFree].filter(([, free]) => free > 0);
  const heads: SlotWait[] = await headsOfQueues(tx, 'pool', open.map(([name]) => name), open.map(([, free]) => free + HEAD_MARGIN));
  const workflowIds = await workflowsWithWaits(tx);
  heads.push(...await headsOfQueues(tx, 'workflow', workflowIds, workflowIds.map(() => WORKFLOW_HEADS)));
  const active = await activeTasksOf(tx, [...new Set(heads.filter((w) => w.maxActiveTasks !== null).map((w) => w.workflowId))]);
  const { grants, stale } = chooseGrants(heads, poolFree, active);
  await deleteSlotWaits(tx, stale);
  if (grants.length === 0) return { messages: [], stale: stale.length };
  await lockRunsOf(tx, grants.map((g) => g.runId));
  return { messages: await grantSlots(tx, grants, new Date()), stale: stale.length };
}

/**
 * Which waiting tasks get slots now: in priority order, then longest waiting, each while its pool has the
 * slots it takes and its workflow is under maxActiveTasks. A pool whose next task does not fit admits
 * nothing more in this pass (strict order within a pool). Waits whose task run no longer waits are stale.
 */
export function chooseGrants(heads: readonly SlotWait[], poolFree: ReadonlyMap<string, number>, active: ReadonlyMap<string, number>):
  { grants: { attemptId: string; runId: string; limitsWorkflow: boolean }[]; stale: string[] } {
  const free = new Map(poolFree);
  const running = new Map(active);
  const blockedPools = new Set<string>();
  const grants: { attemptId: string; runId: string; limitsWorkflow: boolean }[] = [];
  const stale: string[] = [];
  const seen = new Set<string>();
  const ordered = [...heads].sort((a, b) => b.priority - a.priority || a.waitTime.getTime() - b.waitTime.getTime() || (a.attemptId < b.attemptId ? -1 : 1));
  for (const w of ordered) {
    if (seen.has(w.attemptId)) continue;
    seen.add(w.attemptId);
    if (!w.current) {
      stale.push(w.attemptId);
      continue;
    }
    if (w.pool !== null && blockedPools.has(w.pool)) continue;
    if (w.maxActiveTasks !== null && (running.get(w.workflowId) ?? 0) >= w.maxActiveTasks) continue;
    if (w.pool !== null) {
      const left = free.get(w.pool);
      if (left === undefined || left < w.poolSlots) {
        blockedPools.add(w.pool);
        continue;
      }
      free.set(w.pool, left - w.poolSlots);
    }
    if (w.maxActiveTasks !== null) running.set(w.workflowId, (running.get(w.workflowId) ?? 0) + 1);
    grants.push({ attemptId: w.attemptId, runId: w.runId, limitsWorkflow: w.maxActiveTasks !== null });
  }
  return { grants, stale };
}
