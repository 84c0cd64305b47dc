import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { hasRetriesLeft, isTerminalRunState, newId, retryDelayFor, TemplateError, type RunState, type ParamValue } from '@skein/domain';
import type { TaskEvent } from '@skein/proto';
import { markHop } from '@skein/telemetry';
import {
  admitRun, countActiveBackfillRuns, countActiveRuns, getWorkflow, hasWaitingBackfillRuns, listWaitingRunSlots, insertRunWithChanges, listWaitingRuns, lockWorkflowAdmission, listTaskNamesInStates, listTaskOutputs, listTaskRuns, listUnfinishedRunAttempts, lockRun, lockRunReadingTaskRuns, readRunSnapshot,
  NotFoundError, readTaskRuns, setRunReason, deleteRunSlotWaits, insertQueueDeadlines, insertSlotWaits, releaseSlots, tryLockSlotAdmission, type NewSlotWait,
  withTransaction, writeRunChanges, writeRunChangesIf, type AttemptUpdate, type NewAttemptRow, type NewRun, type OutboxMessage, type Queryable, type RunRecord, type RunSnapshot, type StoredOutboxMessage, type TaskRunRecord,
} from '@skein/store';
import { buildDispatch, conditionHolds, dispatchRunOf, outputsNeeded, type DispatchRun } from './dispatch';
import type { RunGraph, RunGraphCache } from './run-graph';
import { initialTaskRuns, RunTransition } from './run-transition';
import { admitSlots } from './slot-admitter';

export interface CreateRunInput {
  readonly workflowId: string;
  readonly params: Record<string, ParamValue>;
  readonly trigger: string;
  readonly logicalDate?: Date;
  /** The creating call's W3C trace context; the run's span links to it. */
  readonly traceparent?: string;
  /** A backfill with a limit of its own on its active runs (`--max-active`). */
  readonly backfill?: { readonly id: string; readonly maxActive: number };
}

/** Names the trace context of an attempt (telemetry); '' when tracing is off. */
export type AttemptTraceContext = (run: DispatchRun, task: string, attempt: number, attemptId: string) => string;

export interface RunApplierOptions {
  readonly pool: Pool;
  /**
   * Connections for the optimistic hot path's statements (`readRunSnapshot`, `writeRunChangesIf`),
   * made with `plannedOnce` so they are never re-planned. @default `pool`
   */
  readonly hotPathPool?: Pool;
  readonly graphs: RunGraphCache;
  readonly logger: Logger;
  /** @default no trace context */
  readonly traceContext?: AttemptTraceContext;
  /** Told when a task waits for a retry, so the retry timer can be armed. */
  readonly onRetryScheduled?: (at: Date) => void;
  /** Ids of outbox rows already published, for the next write to delete. @default none */
  readonly takeSentOutbox?: () => number[];
}

/** What a transaction decided: messages committed to the outbox, to publish now. */
export interface Applied {
  readonly workflowId: string;
  readonly outbox: StoredOutboxMessage[];
  readonly runEnded: boolean;
  /** Attempts that ended in this transaction (for their spans). */
  readonly endedAttempts?: EndedAttempt[];
  /** Set when the run ended in this transaction. */
  readonly endedRun?: EndedRun;
  /** The run was created waiting for a slot under maxActiveRuns. */
  readonly waiting?: boolean;
  /** Tasks started waiting for a slot (pool, maxActiveTasks) or released one: admission should look. */
  readonly slotsChanged?: boolean;
}

export interface EndedAttempt {
  readonly attemptId: string;
  readonly task: string;
  readonly number: number;
  readonly state: string;
  readonly reason: string;
  readonly executor: string;
  readonly startTime: Date;
  readonly endTime: Date;
}

export interface EndedRun {
  readonly runId: string;
  readonly workflowId: string;
  readonly state: string;
  readonly createTime: Date;
  readonly endTime: Date;
  readonly callerTraceparent: string;
  /** The run's version limits active runs: its end frees a slot another run may be waiting for. */
  readonly freesSlot: boolean;
  /** How often the run was retried in place (this end is the end of that retry), and when it began. */
  readonly retries: number;
  readonly retryTime: Date | null;
}

/** What a write committed (or will, with its transaction). */
interface Written {
  readonly outbox: StoredOutboxMessage[];
  readonly endedRun?: EndedRun;
  readonly slotsChanged: boolean;
  /** A guarded write's run as it left it. */
  readonly after?: RunSnapshot;
  /** A new run's row as written. */
  readonly created?: RunRecord;
}

/** What one transaction accumulates before its single write. */
interface Pending {
  readonly attempts: Map<string, AttemptUpdate>;
  readonly newAttempts: NewAttemptRow[];
  readonly outbox: OutboxMessage[];
  readonly endedAttempts: EndedAttempt[];
  /** Outputs of tasks that succeeded in this transaction (not yet written, so not readable from the store). */
  readonly outputs: Map<string, Record<string, unknown>>;
  /** Limited tasks that became ready: they wait for a slot instead of being dispatched. */
  readonly waits: NewSlotWait[];
  startedAt: Date | null;
}

/** Losses of never-started attempts re-dispatched for free, per task run, before they count as failures. */
const MAX_UNSTARTED_LOSSES = 3;

/** Runs whose workflow version is remembered (see RunApplier.versions): enough for the runs in flight. */
const REMEMBERED_RUNS = 4096;

/** At most this many task runs are kept per run after a guarded write (a chain hop needs two or three). */
const KEPT_TASK_RUNS = 32;

/** Sets `key` as the newest entry of `map`, dropping the oldest once {@link REMEMBERED_RUNS} are held. */
function rememberRecent<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= REMEMBERED_RUNS) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

const emptyPending = (): Pending => ({ attempts: new Map(), newAttempts: [], outbox: [], endedAttempts: [], outputs: new Map(), waits: [], startedAt: null });

/**
 * Applies every change to a run atomically, so any scheduler replica can apply any event and
 * concurrent changes of one run serialise: either in one transaction that holds the run's row lock
 * (run creation, cancellation, retries, and whatever needs more than one write), or, for task events,
 * optimistically in one statement guarded by the run row's version (see {@link applyEvents}).
 */
export class RunApplier {
  /**
   * The workflow version of recent runs (it never changes for a run). Knowing it before the run is
   * locked gives the graph, hence which task runs an event touches, so the lock and the read are one
   * statement. A miss costs one statement more, never a wrong answer. Oldest entries go first.
   */
  private readonly versions = new Map<string, { workflowId: string; version: number }>();

  /**
   * Runs as this scheduler's last guarded write left them: the run row, its version and the task runs
   * the next events will touch. An event decided from it costs one statement, the guarded write; if
   * anyone wrote the run since, the write changes nothing and the run is read again.
   */
  private readonly lastWritten = new Map<string, RunSnapshot>();

  constructor(private readonly options: RunApplierOptions) {}

  /**
   * Creates a run of the workflow's current version and queues its first tasks. A `schedule` run is
   * created once per (workflow, logical date): `run` is undefined when it already existed.
   */
  async createRun(input: CreateRunInput): Promise<{ run: RunRecord | undefined } & Applied> {
    const workflow = await getWorkflow(this.options.pool, input.workflowId);
    if (!workflow) throw new NotFoundError('workflow', input.workflowId);
    const graph = await this.options.graphs.get(workflow.id, workflow.currentVersion);
    const now = new Date();
    const limit = graph.spec.spec.maxActiveRuns;
    return withTransaction(this.options.pool, async (tx) => {
      // Under maxActiveRuns, a run beyond the limit waits (QUEUED, nothing dispatched) for a slot; so does
      // every run while others wait, so that runs start in logical-date order, not creation order.
      // A backfill's own limit works the same way over its runs.
      let admitted = true;
      if (limit !== undefined || input.backfill) {
        await lockWorkflowAdmission(tx, workflow.id);
        if (limit !== undefined) admitted = (await countActiveRuns(tx, workflow.id)) < limit && (await listWaitingRuns(tx, workflow.id, 1)).length === 0;
        if (admitted && input.backfill) {
          admitted = (await countActiveBackfillRuns(tx, input.backfill.id)) < input.backfill.maxActive && !(await hasWaitingBackfillRuns(tx, input.backfill.id));
        }
      }
      const initial = initialTaskRuns(graph).map((t) => (admitted ? t : { ...t, state: 'pending' as const, currentAttempt: 0 }));
      const newRun = {
        id: newId(), workflowId: workflow.id, workflowVersion: workflow.currentVersion, trigger: input.trigger, params: input.params,
        logicalDate: input.logicalDate ?? now, traceparent: input.traceparent, taskCount: initial.length, admitted,
        ...(input.backfill && { backfill: input.backfill }),
      };
      // The run as it is decided from; its row is written last, with its task runs and first attempts, in one statement.
      const deciding: RunRecord = {
        ...newRun, state: 'queued', createTime: now, startTime: null, endTime: null, reason: '', traceparent: input.traceparent ?? '',
        unfinishedTasks: initial.length, failedTasks: 0, cancelledTasks: 0, backfill: input.backfill ?? null, retries: 0, retryTime: null,
      };
      const transition = new RunTransition(graph, now);
      transition.load(initial.map((t, position) => ({
        runId: newRun.id, task: t.task, position, state: t.state, currentAttempt: t.currentAttempt, failedAttempts: 0, retryAt: null, startTime: null, endTime: null,
        upstream: { total: t.upstreamTotal, succeeded: 0, failed: 0, upstreamFailed: 0, skipped: 0, cancelled: 0 },
      })));
      const pending = emptyPending();
      if (admitted) await this.dispatch(tx, deciding, graph, transition, initial.filter((t) => t.state === 'queued').map((t) => t.task), pending, now);
      const written = await this.write(tx, deciding, transition, pending, now, undefined, { startClock: admitted, create: newRun });
      // A scheduled run that already existed (another replica, or an earlier tick, made it): nothing was written.
      if (written?.created === undefined) return { workflowId: workflow.id, run: undefined, outbox: [], runEnded: false };
      const run = written.created;
      this.remember(run);
      if (!admitted) return { workflowId: workflow.id, run, outbox: [], runEnded: false, waiting: true };
      const { outbox, endedRun, slotsChanged } = written;
      return { workflowId: run.workflowId, run, outbox, runEnded: endedRun !== undefined, endedRun, slotsChanged };
    });
  }

  /**
   * Applies a batch of task events of one run (in delivery order). Stale and repeated events change nothing.
   *
   * The hot path is optimistic, at most two round trips and one commit: read the run and the touched
   * task runs without a lock (`readRunSnapshot`; no read at all when this scheduler's last write of the
   * run left what the events touch: {@link lastWritten}), decide, and write everything in one
   * autocommitted statement that applies only if the run row is still at the version decided from
   * (`writeRunChangesIf`). When another writer got there first the events are decided again from a
   * fresh read; when that fails too, or the change needs more than the one statement (slots, queued
   * timeouts, naming the failed tasks of a run that fails), under the run's lock.
   */
  async applyEvents(runId: string, events: readonly TaskEvent[]): Promise<Applied> {
    const known = this.versions.get(runId);
    const knownGraph = known ? await this.options.graphs.get(known.workflowId, known.version) : undefined;
    if (knownGraph !== undefined && knownGraph.limited.size === 0 && !knownGraph.queuedTimeouts) {
      const applied = await this.applyEventsOptimistically(runId, knownGraph, events);
      if (applied !== undefined) return applied;
    }
    return this.applyEventsLocked(runId, knownGraph, events);
  }

  /** {@link applyEvents} without a lock; undefined: nothing was written, take the lock and decide again. */
  private async applyEventsOptimistically(runId: string, graph: RunGraph, events: readonly TaskEvent[]): Promise<Applied | undefined> {
    const touched = touchedTasks(graph, events);
    const written = this.takeLastWritten(runId, touched);
    if (written !== undefined) {
      markHop('scheduler.deciding');
      markHop('scheduler.state-read');
      const applied = await this.decideAndWrite(graph, events, written);
      if (applied !== undefined) return applied;
      // Another writer changed the run since this scheduler's last write: read it as it is now.
    }
    markHop('scheduler.deciding');
    const snapshot = await readRunSnapshot(this.options.hotPathPool ?? this.options.pool, runId, touched);
    markHop('scheduler.state-read');
    return snapshot === undefined ? undefined : this.decideAndWrite(graph, events, snapshot);
  }

  /** Decides the events from `snapshot` and writes the outcome if the run is still at its version. */
  private async decideAndWrite(graph: RunGraph, events: readonly TaskEvent[], snapshot: RunSnapshot): Promise<Applied | undefined> {
    const { pool } = this.options;
    const { run } = snapshot;
    if (isTerminalRunState(run.state)) return { workflowId: run.workflowId, outbox: [], runEnded: false };
    const now = new Date();
    const transition = new RunTransition(graph, now);
    transition.load(snapshot.taskRuns);
    const pending = emptyPending();
    for (const event of events) this.applyEvent(graph, transition, pending, event, now);
    await this.settle(pool, run, transition);
    await this.dispatch(pool, run, graph, transition, transition.takeReady(), pending, now);
    // What the run's next events will touch: the unfinished tasks it holds and their downstream tasks.
    const keep = new Set<string>();
    for (const task of transition.unfinished()) {
      keep.add(task);
      for (const down of graph.downstream.get(task) ?? []) keep.add(down);
    }
    const written = await this.write(this.options.hotPathPool ?? pool, run, transition, pending, now, undefined, { ifVersion: snapshot.version, keep: keep.size <= KEPT_TASK_RUNS ? [...keep] : [] });
    if (written === undefined) return undefined;
    const { outbox, endedRun, slotsChanged, after } = written;
    if (after !== undefined && endedRun === undefined && keep.size <= KEPT_TASK_RUNS) this.rememberWritten(after);
    return { workflowId: run.workflowId, outbox, runEnded: endedRun !== undefined, endedAttempts: pending.endedAttempts, endedRun, slotsChanged };
  }

  /**
   * The run as this scheduler's last guarded write left it, if that covers `tasks` (taken out: a run's
   * events are decided one batch at a time, and the next write puts back what it leaves).
   */
  private takeLastWritten(runId: string, tasks: readonly string[]): RunSnapshot | undefined {
    const written = this.lastWritten.get(runId);
    if (written === undefined) return undefined;
    this.lastWritten.delete(runId);
    const held = new Map(written.taskRuns.map((t) => [t.task, t]));
    const taskRuns = tasks.map((task) => held.get(task));
    if (!taskRuns.every((t) => t !== undefined)) return undefined;
    return { run: written.run, version: written.version, taskRuns: taskRuns as TaskRunRecord[] };
  }

  private rememberWritten(after: RunSnapshot): void {
    rememberRecent(this.lastWritten, after.run.id, after);
  }

  private async applyEventsLocked(runId: string, knownGraph: RunGraph | undefined, events: readonly TaskEvent[]): Promise<Applied> {
    return withTransaction(this.options.pool, async (tx) => {
      markHop('scheduler.deciding');
      const locked = knownGraph ? await lockRunReadingTaskRuns(tx, runId, touchedTasks(knownGraph, events)) : undefined;
      markHop('scheduler.state-read');
      const run = locked?.run ?? await lockRun(tx, runId);
      if (!run) {
        this.options.logger.warn({ runId }, 'task event for an unknown run ignored');
        return { workflowId: '', outbox: [], runEnded: false };
      }
      this.remember(run);
      if (isTerminalRunState(run.state)) return { workflowId: run.workflowId, outbox: [], runEnded: false };
      const graph = knownGraph ?? await this.options.graphs.get(run.workflowId, run.workflowVersion);
      const now = new Date();
      const transition = new RunTransition(graph, now);
      // Not remembered (another replica created it, or this one restarted): the read is a second statement.
      transition.load(locked?.taskRuns ?? await readTaskRuns(tx, run.id, touchedTasks(graph, events)));
      const pending = emptyPending();
      for (const event of events) this.applyEvent(graph, transition, pending, event, now);
      await this.settle(tx, run, transition);
      await this.dispatch(tx, run, graph, transition, transition.takeReady(), pending, now);
      const { outbox, endedRun, slotsChanged } = await this.write(tx, run, transition, pending, now);
      return { workflowId: run.workflowId, outbox, runEnded: endedRun !== undefined, endedAttempts: pending.endedAttempts, endedRun, slotsChanged };
    });
  }

  /** Starts the next attempt of tasks whose retry delay has passed. */
  async fireRetries(runId: string, taskNames: readonly string[]): Promise<Applied> {
    return withTransaction(this.options.pool, async (tx) => {
      const run = await lockRun(tx, runId);
      if (!run || isTerminalRunState(run.state)) return { workflowId: run?.workflowId ?? '', outbox: [], runEnded: false };
      const graph = await this.options.graphs.get(run.workflowId, run.workflowVersion);
      const now = new Date();
      const transition = new RunTransition(graph, now);
      transition.load(await readTaskRuns(tx, run.id, taskNames));
      for (const name of taskNames) {
        const task = transition.get(name);
        if (task?.state === 'up_for_retry' && (!task.retryAt || task.retryAt <= now)) transition.queue(name);
      }
      const pending = emptyPending();
      await this.dispatch(tx, run, graph, transition, transition.takeReady(), pending, now);
      const { outbox, endedRun, slotsChanged } = await this.write(tx, run, transition, pending, now);
      return { workflowId: run.workflowId, outbox, runEnded: endedRun !== undefined, endedRun, slotsChanged };
    });
  }

  /**
   * Admits runs waiting under the workflow's maxActiveRuns into the free slots, in logical-date order,
   * dispatching their first tasks. Safe on any replica: admission is serialised per workflow.
   */
  async admitWaiting(workflowId: string): Promise<{ runId: string; applied: Applied }[]> {
    return withTransaction(this.options.pool, async (tx) => {
      const workflow = await getWorkflow(tx, workflowId);
      if (!workflow) return [];
      await lockWorkflowAdmission(tx, workflowId);
      const limit = workflow.spec.spec.maxActiveRuns ?? Number.POSITIVE_INFINITY;
      let free = limit - (await countActiveRuns(tx, workflowId));
      if (free <= 0) return [];
      const admitted: { runId: string; applied: Applied }[] = [];
      // A run over its backfill's own limit stays waiting without holding back the runs after it.
      const backfillActive = new Map<string, number>();
      for (const waiting of await listWaitingRunSlots(tx, workflowId, Math.min(free, 100) + 100)) {
        if (free <= 0) break;
        if (waiting.backfillId !== null && waiting.backfillMaxActive !== null) {
          const active = backfillActive.get(waiting.backfillId) ?? await countActiveBackfillRuns(tx, waiting.backfillId);
          backfillActive.set(waiting.backfillId, active);
          if (active >= waiting.backfillMaxActive) continue;
          backfillActive.set(waiting.backfillId, active + 1);
        }
        free -= 1;
        const run = await lockRun(tx, waiting.id);
        if (!run || run.admitted || run.state !== 'queued') continue;
        const graph = await this.options.graphs.get(run.workflowId, run.workflowVersion);
        const now = new Date();
        const first = initialTaskRuns(graph).filter((t) => t.state === 'queued').map((t) => t.task);
        const transition = new RunTransition(graph, now);
        transition.load(await readTaskRuns(tx, run.id, first));
        for (const task of first) transition.queue(task);
        const pending = emptyPending();
        await this.dispatch(tx, run, graph, transition, transition.takeReady(), pending, now);
        await admitRun(tx, run.id);
        const { outbox, endedRun, slotsChanged } = await this.write(tx, run, transition, pending, now, undefined, { startClock: true });
        admitted.push({ runId: run.id, applied: { workflowId, outbox, runEnded: endedRun !== undefined, endedRun, slotsChanged } });
      }
      return admitted;
    });
  }

  /**
   * Runs tasks of an ended run again (`skein runs retry`): `task` and everything downstream of it, or
   * every failed, upstream_failed and cancelled task and everything downstream of them. They get a fresh
   * retry budget and new attempts (numbers continue); the run is RUNNING again.
   */
  async retryRun(runId: string, task?: string): Promise<Applied & { retried: string[] }> {
    return withTransaction(this.options.pool, async (tx) => {
      const run = await lockRun(tx, runId);
      if (!run) throw new NotFoundError('run', runId);
      if (!isTerminalRunState(run.state)) throw new RunNotEndedError(runId, run.state);
      const graph = await this.options.graphs.get(run.workflowId, run.workflowVersion);
      if (task !== undefined && !graph.tasks.has(task)) throw new NotFoundError('task', `${task} of run ${runId}`);
      const now = new Date();
      const transition = new RunTransition(graph, now);
      const taskRuns = await listTaskRuns(tx, run.id);
      transition.load(taskRuns);
      const selected = task !== undefined ? [task]
        : taskRuns.filter((t) => t.state === 'failed' || t.state === 'upstream_failed' || t.state === 'cancelled').map((t) => t.task);
      const cleared = new Set<string>();
      const work = [...selected];
      while (work.length > 0) {
        const name = work.pop() as string;
        if (cleared.has(name)) continue;
        cleared.add(name);
        work.push(...(graph.downstream.get(name) ?? []));
      }
      if (cleared.size === 0) return { workflowId: run.workflowId, outbox: [], runEnded: false, retried: [] };
      transition.clear(cleared);
      const pending = emptyPending();
      await this.dispatch(tx, run, graph, transition, transition.takeReady(), pending, now);
      const { outbox, endedRun, slotsChanged } = await this.write(tx, run, transition, pending, now, undefined, { reopen: true, startClock: true });
      return { workflowId: run.workflowId, outbox, runEnded: endedRun !== undefined, endedRun, slotsChanged, retried: graph.order.filter((t) => cleared.has(t)) };
    });
  }

  /**
   * Cancels a run: every task not yet ended becomes CANCELLED (nothing downstream is evaluated), every
   * queued or running attempt CANCELLED, and the run CANCELLED. Returns the attempts whose executors must
   * stop them; nothing when the run had already ended.
   */
  async cancelRun(runId: string, reason: string, endState: 'cancelled' | 'failed' = 'cancelled'): Promise<Applied & { stopAttempts: { attemptId: string; task: string }[] }> {
    return withTransaction(this.options.pool, async (tx) => {
      const run = await lockRun(tx, runId);
      if (!run) throw new NotFoundError('run', runId);
      if (isTerminalRunState(run.state)) return { workflowId: run.workflowId, outbox: [], runEnded: false, stopAttempts: [] };
      const graph = await this.options.graphs.get(run.workflowId, run.workflowVersion);
      const now = new Date();
      const transition = new RunTransition(graph, now);
      transition.load(await listTaskRuns(tx, run.id));
      for (const task of graph.order) transition.cancel(task, now);
      const unfinished = await listUnfinishedRunAttempts(tx, run.id);
      const pending = emptyPending();
      for (const a of unfinished) {
        pending.attempts.set(a.id, attemptUpdate(a.id, { state: 'cancelled', reason: 'CANCELLED', message: reason, startTime: a.startTime, endTime: now }));
        pending.endedAttempts.push({ attemptId: a.id, task: a.task, number: a.number, state: 'cancelled', reason: 'CANCELLED', executor: a.executor, startTime: a.startTime ?? now, endTime: now });
      }
      const { outbox, endedRun, slotsChanged } = await this.write(tx, run, transition, pending, now, { state: endState, reason });
      // Its waiting tasks were cancelled above: their waits go (the released leases went in write()).
      if (graph.limited.size > 0) await deleteRunSlotWaits(tx, run.id);
      return {
        workflowId: run.workflowId, outbox, runEnded: endedRun !== undefined, endedAttempts: pending.endedAttempts, endedRun, slotsChanged,
        stopAttempts: unfinished.map((a) => ({ attemptId: a.id, task: a.task })),
      };
    });
  }

  private remember(run: RunRecord): void {
    if (this.versions.has(run.id)) return;
    rememberRecent(this.versions, run.id, { workflowId: run.workflowId, version: run.workflowVersion });
  }

  /** One event: fenced by attempt number and state, so repeats and late events change nothing. */
  private applyEvent(graph: RunGraph, transition: RunTransition, pending: Pending, event: TaskEvent, now: Date): void {
    const task = transition.get(event.task);
    const spec = graph.tasks.get(event.task);
    const kind = event.kind;
    if (!task || !spec || !kind || event.attempt !== task.currentAttempt) return;
    if (kind.$case === 'started') {
      if (task.state !== 'queued') return;
      const startTime = kind.started.startTime ?? event.time ?? now;
      pending.attempts.set(event.attemptId, attemptUpdate(event.attemptId, { state: 'running', executor: event.executor, startTime }));
      task.state = 'running';
      task.startTime ??= startTime;
      pending.startedAt ??= startTime;
      transition.touch(event.task);
      return;
    }
    if (task.state !== 'queued' && task.state !== 'running') return;
    const succeeded = kind.$case === 'succeeded';
    const body = succeeded ? kind.succeeded : kind.failed;
    const endTime = body.endTime ?? event.time ?? now;
    const startTime = body.startTime ?? pending.attempts.get(event.attemptId)?.startTime ?? task.startTime ?? endTime;
    const reason = succeeded ? '' : kind.failed.reason;
    const state = succeeded ? 'succeeded' : reason === 'LOST' ? 'lost' : reason === 'CANCELLED' ? 'cancelled' : 'failed';
    pending.attempts.set(event.attemptId, attemptUpdate(event.attemptId, {
      state, reason, startTime, endTime, executor: event.executor,
      exitCode: succeeded ? kind.succeeded.exitCode : (kind.failed.exitCode ?? null),
      message: succeeded ? '' : kind.failed.message,
      outputs: succeeded ? parseOutputs(kind.succeeded.outputsJson) : null,
    }));
    pending.endedAttempts.push({ attemptId: event.attemptId, task: event.task, number: event.attempt, executor: event.executor, reason, state, startTime, endTime });
    if (!succeeded && reason === 'LOST' && task.state === 'queued' && task.currentAttempt - 1 - task.failedAttempts < MAX_UNSTARTED_LOSSES) {
      // The attempt never started (no `started` event): its dispatch was handed back or its executor
      // died before running it. Dispatch it again without using a retry.
      transition.queue(event.task);
      return;
    }
    pending.startedAt ??= startTime;
    task.startTime ??= startTime;
    if (!succeeded) task.failedAttempts += 1;
    if (succeeded) {
      pending.outputs.set(event.task, parseOutputs(kind.succeeded.outputsJson) ?? {});
      transition.end(event.task, 'succeeded', endTime);
    } else if (hasRetriesLeft(spec, task.failedAttempts)) {
      const delay = retryDelayFor(spec, task.failedAttempts);
      if (delay <= 0) {
        transition.queue(event.task);
      } else {
        task.state = 'up_for_retry';
        task.retryAt = new Date(now.getTime() + delay);
        transition.touch(event.task);
        this.options.onRetryScheduled?.(task.retryAt);
      }
    } else {
      transition.end(event.task, 'failed', endTime);
    }
  }

  /** Loads what downstream evaluation still needs until every cascade is resolved. */
  private async settle(tx: Queryable, run: RunRecord, transition: RunTransition): Promise<void> {
    transition.resolve();
    while (transition.unresolved) {
      transition.load(await readTaskRuns(tx, run.id, transition.missing()));
      transition.resolve();
    }
  }

  /**
   * Creates the attempts of tasks just queued and their dispatch messages. A task whose templates
   * cannot be rendered fails at once, and that failure propagates downstream like any other.
   */
  private async dispatch(tx: Queryable, run: RunRecord, graph: RunGraph, transition: RunTransition, names: readonly string[],
    pending: Pending, now: Date): Promise<void> {
    let queue = [...names];
    const dispatchRun = queue.length > 0 ? dispatchRunOf(run, graph.spec) : run;
    while (queue.length > 0) {
      // Tasks ready together go out highest priority first (stable: file order within a priority).
      if (graph.prioritised) queue.sort((a, b) => (graph.tasks.get(b)?.priority ?? 0) - (graph.tasks.get(a)?.priority ?? 0));
      const needed = [...new Set(queue.flatMap((name) => {
        const spec = graph.tasks.get(name);
        return spec ? outputsNeeded(spec) : [];
      }))];
      const stored = needed.filter((task) => !pending.outputs.has(task));
      const outputs = stored.length > 0 ? await listTaskOutputs(tx, run.id, stored) : new Map<string, Record<string, unknown>>();
      for (const task of needed) {
        const fresh = pending.outputs.get(task);
        if (fresh) outputs.set(task, fresh);
      }
      for (const name of queue) {
        const task = transition.get(name);
        const spec = graph.tasks.get(name);
        if (!task || !spec) continue;
        const attemptId = newId();
        try {
          if (!conditionHolds(dispatchRun, spec, outputs)) {
            // `when:` is false: the task is skipped (no attempt), and that propagates like any skip.
            task.currentAttempt -= 1;
            transition.end(name, 'skipped', now);
            continue;
          }
          const traceparent = this.options.traceContext?.(run, name, task.currentAttempt, attemptId) ?? '';
          const message = buildDispatch({ run: dispatchRun, task: spec, attemptId, attempt: task.currentAttempt, outputs, traceparent, now });
          if (graph.limited.has(name)) {
            // Under a pool or maxActiveTasks: the task waits for a slot; admission sends this dispatch.
            task.state = 'scheduled';
            transition.touch(name);
            pending.waits.push({
              attemptId, task: name, number: task.currentAttempt, workflowId: run.workflowId, pool: spec.pool ?? null, poolSlots: spec.poolSlots ?? 1,
              maxActiveTasks: graph.spec.spec.maxActiveTasks ?? null, priority: spec.priority ?? 0, queuedTimeoutMs: spec.queuedTimeoutMs ?? null,
              waitTime: now, dispatch: message,
            });
            continue;
          }
          pending.outbox.push(message);
          pending.newAttempts.push({ id: attemptId, task: name, number: task.currentAttempt, state: 'queued', queueTime: now, reason: '', message: '', endTime: null });
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          pending.newAttempts.push({ id: attemptId, task: name, number: task.currentAttempt, state: 'failed', queueTime: now, reason: 'TEMPLATE_ERROR', message: err.message, endTime: now });
          transition.end(name, 'failed', now);
        }
      }
      await this.settle(tx, run, transition);
      queue = transition.takeReady();
    }
  }

  /** The one write of the transaction; ends the run when no task is left unfinished. */
  /**
   * @param startClock the run starts (or restarts) now — created and admitted, admitted after waiting, or
   *   reopened by a retry: its timeout is counted from now.
   */
  private async write(tx: Queryable, run: RunRecord, transition: RunTransition, pending: Pending, now: Date,
    forcedEnd?: { state: RunState; reason: string }, options?: { reopen?: boolean; startClock?: boolean }): Promise<Written>;
  /**
   * With `create` the run is new: `run` is what it is decided from, and the run row, every task run and
   * the first attempts are inserted in one statement. Undefined: a scheduled run that already existed.
   */
  private async write(tx: Queryable, run: RunRecord, transition: RunTransition, pending: Pending, now: Date,
    forcedEnd: undefined, options: { startClock: boolean; create: Omit<NewRun, 'state' | 'startTime'> }): Promise<Written | undefined>;
  /**
   * With `ifVersion` (no transaction: `tx` is the pool) only the one statement is allowed: undefined
   * when the run changed since it was read, or when the change needs more statements than that.
   */
  private async write(tx: Queryable, run: RunRecord, transition: RunTransition, pending: Pending, now: Date,
    forcedEnd: undefined, options: { ifVersion: string; keep: readonly string[] }): Promise<Written | undefined>;
  private async write(tx: Queryable, run: RunRecord, transition: RunTransition, pending: Pending, now: Date,
    forcedEnd?: { state: RunState; reason: string },
    { reopen = false, startClock = false, ifVersion, keep = [], create }: {
      reopen?: boolean; startClock?: boolean; ifVersion?: string; keep?: readonly string[]; create?: Omit<NewRun, 'state' | 'startTime'>;
    } = {}): Promise<Written | undefined> {
    const unfinished = run.unfinishedTasks + transition.unfinishedDelta;
    const failed = run.failedTasks + transition.failedDelta;
    const cancelled = run.cancelledTasks + transition.cancelledDelta;
    const endState: RunState | undefined = forcedEnd?.state
      ?? (unfinished > 0 ? undefined : failed > 0 ? 'failed' : cancelled > 0 ? 'cancelled' : 'succeeded');
    // Statements beyond the one write need the transaction (and its lock).
    if (ifVersion !== undefined && (transition.hasQueuedTimeouts || transition.limitsTasks || endState === 'failed')) return undefined;
    const changes = {
      runId: run.id,
      attempts: [...pending.attempts.values()],
      newAttempts: pending.newAttempts,
      taskRuns: transition.writes(),
      outbox: pending.outbox,
      deleteOutbox: this.options.takeSentOutbox?.() ?? [],
      run: {
        unfinishedDelta: transition.unfinishedDelta, failedDelta: transition.failedDelta, cancelledDelta: transition.cancelledDelta,
        startedAt: pending.startedAt, end: endState ? { state: endState, time: now, reason: forcedEnd?.reason ?? '' } : null, reopen,
        deadline: startClock && transition.timeoutMs ? new Date(now.getTime() + transition.timeoutMs) : null,
      },
    };
    markHop('scheduler.writing');
    let ids: number[];
    let after: RunSnapshot | undefined;
    let created: RunRecord | undefined;
    if (create !== undefined) {
      const inserted = await insertRunWithChanges(tx, {
        run: create, taskRuns: transition.all(), newAttempts: changes.newAttempts, outbox: changes.outbox, deleteOutbox: changes.deleteOutbox,
        counters: { unfinishedDelta: transition.unfinishedDelta, failed: transition.failedDelta, cancelled: transition.cancelledDelta },
        end: changes.run.end, deadline: changes.run.deadline,
      });
      if (inserted === undefined) return undefined;
      ids = inserted.outboxIds;
      created = inserted.run;
    } else if (ifVersion === undefined) {
      ids = await writeRunChanges(tx, changes);
    } else {
      const guarded = await writeRunChangesIf(tx, changes, ifVersion, keep);
      if (guarded === undefined) return undefined;
      ids = guarded.outboxIds;
      after = guarded.after;
    }
    // Tasks with their own queuedTimeout (only they pay for this statement).
    if (transition.hasQueuedTimeouts) {
      await insertQueueDeadlines(tx, pending.newAttempts.flatMap((a) => {
        const timeoutMs = a.state === 'queued' ? transition.queuedTimeoutOf(a.task) : undefined;
        return timeoutMs ? [{ attemptId: a.id, deadline: new Date(a.queueTime.getTime() + timeoutMs), timeoutMs }] : [];
      }));
    }
    // Slots (only runs with limited tasks pay for these statements).
    let slotsChanged = false;
    const granted: StoredOutboxMessage[] = [];
    if (transition.limitsTasks) {
      await insertSlotWaits(tx, run.id, pending.waits);
      const ended = pending.endedAttempts.filter((a) => transition.isLimited(a.task)).map((a) => a.attemptId);
      const released = await releaseSlots(tx, ended);
      slotsChanged = pending.waits.length > 0 || released > 0;
      // Admit at once what now fits, in this commit, when no other admission is running (taking the lock
      // without waiting keeps lock order safe: this transaction already holds its run's lock). Otherwise
      // the admitter's pass after commit does it.
      if (slotsChanged && (await tryLockSlotAdmission(tx))) {
        // Only inside a transaction: the optimistic path (no transaction) never writes limited tasks.
        const admitted = await admitSlots(tx as PoolClient);
        granted.push(...admitted.messages);
        slotsChanged = admitted.stale > 0;
      }
    }
    if (endState === 'failed' && !forcedEnd) {
      // Rare path: name the failed tasks (this transaction's writes are visible to it).
      const names = await listTaskNamesInStates(tx, run.id, ['failed']);
      await setRunReason(tx, run.id, names.length > 0 ? `failed tasks: ${names.join(', ')}` : 'upstream tasks failed');
    }
    const outbox = [...pending.outbox.map((m, i) => ({ ...m, id: ids[i] as number })), ...granted];
    const endedRun = endState
      ? {
        runId: run.id, workflowId: run.workflowId, state: endState, createTime: (created ?? run).createTime, endTime: now, callerTraceparent: run.traceparent,
        freesSlot: transition.limitsActiveRuns || run.backfill !== null,
        // A retry reopened the run in this transaction: its count and start are the ones just written.
        retries: run.retries + (reopen ? 1 : 0), retryTime: reopen ? now : run.retryTime,
      }
      : undefined;
    return { outbox, endedRun, slotsChanged, after, created };
  }
}

/**
 * The task runs a batch of events reads: each event's task and, for an end, its direct downstream
 * (whose counters and trigger rules it moves). A `started` event needs only its own task.
 */
function touchedTasks(graph: RunGraph, events: readonly TaskEvent[]): string[] {
  const touched = new Set<string>();
  for (const event of events) {
    touched.add(event.task);
    if (event.kind?.$case === 'started') continue;
    for (const down of graph.downstream.get(event.task) ?? []) touched.add(down);
  }
  return [...touched];
}

/** A run can only be retried once it has ended. */
export class RunNotEndedError extends Error {
  override readonly name = 'RunNotEndedError';
  readonly code = 'RUN_NOT_ENDED';
  constructor(readonly runId: string, readonly state: string) {
    super(`run ${runId} is ${state}: only a run that has ended can be retried (cancel it first)`);
  }
}

function attemptUpdate(id: string, fields: Partial<AttemptUpdate>): AttemptUpdate {
  return { id, state: 'running', exitCode: null, reason: '', message: '', outputs: null, executor: '', startTime: null, endTime: null, ...fields };
}

function parseOutputs(json: string): Record<string, unknown> | null {
  if (!json) return null;
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
