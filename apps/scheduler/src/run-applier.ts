import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { deriveRunState, newId, retryDelayFor, TemplateError, isTerminalRunState } from '@skein/domain';
import type { TaskEvent } from '@skein/proto';
import {
  finishAttempt, finishRun, getWorkflow, insertAttempts, insertOutbox, insertRun, insertTaskRuns, listTaskOutputs, listTaskRuns,
  lockRun, markAttemptRunning, markRunRunning, NotFoundError, updateTaskRuns, withTransaction, type NewAttempt, type OutboxMessage,
  type RunRecord, type StoredOutboxMessage,
} from '@skein/store';
import { buildDispatch, outputsNeeded, type DispatchRun } from './dispatch';
import { initialPlan, propagate, type PlannedTask } from './plan';
import type { RunGraph, RunGraphCache } from './run-graph';

export interface CreateRunInput {
  readonly workflowId: string;
  readonly params: Record<string, string | number | boolean>;
  readonly trigger: string;
  readonly logicalDate?: Date;
  /** The creating call's W3C trace context; the run's span links to it. */
  readonly traceparent?: string;
}

/** Names the trace context of an attempt (telemetry); '' when tracing is off. */
export type AttemptTraceContext = (run: DispatchRun, task: string, attempt: number, attemptId: string) => string;

export interface RunApplierOptions {
  readonly pool: Pool;
  readonly graphs: RunGraphCache;
  readonly logger: Logger;
  /** @default no trace context */
  readonly traceContext?: AttemptTraceContext;
  /** Told when a task waits for a retry, so the retry timer can be armed. */
  readonly onRetryScheduled?: (at: Date) => void;
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
}

/**
 * Applies every change to a run inside one transaction that holds the run's row lock, so any
 * scheduler replica can apply any event and concurrent events of one run serialise.
 */
export class RunApplier {
  constructor(private readonly options: RunApplierOptions) {}

  /** Creates a run of the workflow's current version and queues its first tasks. */
  async createRun(input: CreateRunInput): Promise<{ run: RunRecord } & Applied> {
    const workflow = await getWorkflow(this.options.pool, input.workflowId);
    if (!workflow) throw new NotFoundError('workflow', input.workflowId);
    const graph = await this.options.graphs.get(workflow.id, workflow.currentVersion);
    const now = new Date();
    const { tasks, dispatch } = initialPlan(graph);
    return withTransaction(this.options.pool, async (tx) => {
      const run = await insertRun(tx, {
        id: newId(), workflowId: workflow.id, workflowVersion: workflow.currentVersion, state: 'queued', trigger: input.trigger,
        params: input.params, logicalDate: input.logicalDate ?? now, startTime: null, traceparent: input.traceparent,
      });
      await insertTaskRuns(tx, run.id, graph.order.map((name, position) => {
        const t = tasks.get(name) as PlannedTask;
        return { task: name, position, state: t.state, currentAttempt: t.currentAttempt };
      }));
      const changed = new Set<string>();
      const outbox = await this.dispatchTasks(tx, run, graph, tasks, dispatch, changed, now);
      await updateTaskRuns(tx, run.id, [...changed].map((name) => change(name, tasks.get(name) as PlannedTask)));
      const endedRun = await this.settleRun(tx, run, tasks, false, now);
      return { workflowId: run.workflowId, run, outbox, runEnded: endedRun !== undefined, endedRun };
    });
  }

  /** Applies a batch of task events of one run (in delivery order). Stale and repeated events change nothing. */
  async applyEvents(runId: string, events: readonly TaskEvent[]): Promise<Applied> {
    return withTransaction(this.options.pool, async (tx) => {
      const run = await lockRun(tx, runId);
      if (!run) {
        this.options.logger.warn({ runId }, 'task event for an unknown run ignored');
        return { workflowId: '', outbox: [], runEnded: false };
      }
      const graph = await this.options.graphs.get(run.workflowId, run.workflowVersion);
      const tasks = await this.loadTasks(tx, run.id);
      const now = new Date();
      const changed = new Set<string>();
      const finished: string[] = [];
      const retryNow: string[] = [];
      const endedAttempts: EndedAttempt[] = [];
      let started = false;
      for (const event of events) {
        const task = tasks.get(event.task);
        const spec = graph.tasks.get(event.task);
        if (!task || !spec || event.attempt !== task.currentAttempt || isTerminalRunState(run.state)) continue;
        const kind = event.kind;
        if (!kind) continue;
        if (kind.$case === 'started') {
          const startTime = kind.started.startTime ?? event.time ?? now;
          if (task.state === 'queued' && (await markAttemptRunning(tx, event.attemptId, event.executor, startTime))) {
            task.state = 'running';
            task.startTime ??= startTime;
            changed.add(event.task);
            started = true;
          }
          continue;
        }
        const body = kind.$case === 'succeeded' ? kind.succeeded : kind.failed;
        const endTime = body.endTime ?? event.time ?? now;
        const startTime = body.startTime ?? null;
        const succeeded = kind.$case === 'succeeded';
        const reason = succeeded ? '' : kind.failed.reason;
        const ended = await finishAttempt(tx, {
          id: event.attemptId,
          state: succeeded ? 'succeeded' : reason === 'LOST' ? 'lost' : reason === 'CANCELLED' ? 'cancelled' : 'failed',
          exitCode: succeeded ? kind.succeeded.exitCode : (kind.failed.exitCode ?? null),
          reason,
          message: succeeded ? '' : kind.failed.message,
          outputs: succeeded ? parseOutputs(kind.succeeded.outputsJson) : null,
          executor: event.executor,
          startTime,
          endTime,
        });
        if (!ended) continue;
        endedAttempts.push({
          attemptId: event.attemptId, task: event.task, number: event.attempt, executor: event.executor, reason,
          state: succeeded ? 'succeeded' : 'failed', startTime: startTime ?? endTime, endTime,
        });
        started = true;
        task.startTime ??= startTime ?? endTime;
        changed.add(event.task);
        if (succeeded) {
          task.state = 'succeeded';
          task.endTime = endTime;
          finished.push(event.task);
        } else if (event.attempt <= spec.retries) {
          const delay = retryDelayFor(spec, event.attempt);
          if (delay <= 0) {
            task.state = 'queued';
            task.currentAttempt += 1;
            retryNow.push(event.task);
          } else {
            task.state = 'up_for_retry';
            task.retryAt = new Date(now.getTime() + delay);
            this.options.onRetryScheduled?.(task.retryAt);
          }
        } else {
          task.state = 'failed';
          task.endTime = endTime;
          finished.push(event.task);
        }
      }
      const next = propagate(graph, tasks, finished, now);
      for (const name of next.changed) changed.add(name);
      const outbox = await this.dispatchTasks(tx, run, graph, tasks, [...retryNow, ...next.dispatch], changed, now);
      await updateTaskRuns(tx, run.id, [...changed].map((name) => change(name, tasks.get(name) as PlannedTask)));
      const endedRun = await this.settleRun(tx, run, tasks, started, now);
      return { workflowId: run.workflowId, outbox, runEnded: endedRun !== undefined, endedAttempts, endedRun };
    });
  }

  /** Starts the next attempt of tasks whose retry delay has passed. */
  async fireRetries(runId: string, taskNames: readonly string[]): Promise<Applied> {
    return withTransaction(this.options.pool, async (tx) => {
      const run = await lockRun(tx, runId);
      if (!run || isTerminalRunState(run.state)) return { workflowId: run?.workflowId ?? '', outbox: [], runEnded: false };
      const graph = await this.options.graphs.get(run.workflowId, run.workflowVersion);
      const tasks = await this.loadTasks(tx, run.id);
      const now = new Date();
      const due: string[] = [];
      for (const name of taskNames) {
        const task = tasks.get(name);
        if (!task || task.state !== 'up_for_retry' || (task.retryAt && task.retryAt > now)) continue;
        task.state = 'queued';
        task.currentAttempt += 1;
        task.retryAt = null;
        due.push(name);
      }
      const changed = new Set<string>(due);
      const outbox = await this.dispatchTasks(tx, run, graph, tasks, due, changed, now);
      await updateTaskRuns(tx, run.id, [...changed].map((name) => change(name, tasks.get(name) as PlannedTask)));
      const endedRun = await this.settleRun(tx, run, tasks, false, now);
      return { workflowId: run.workflowId, outbox, runEnded: endedRun !== undefined, endedRun };
    });
  }

  private async loadTasks(tx: PoolClient, runId: string): Promise<Map<string, PlannedTask>> {
    const rows = await listTaskRuns(tx, runId);
    return new Map(rows.map((r) => [r.task, {
      state: r.state, currentAttempt: r.currentAttempt, retryAt: r.retryAt, startTime: r.startTime, endTime: r.endTime,
    }]));
  }

  /**
   * Creates the attempts of `names` (already marked queued with their new attempt number) and their
   * dispatch messages. A task whose templates cannot be rendered fails at once, and that failure
   * propagates downstream like any other.
   */
  private async dispatchTasks(tx: PoolClient, run: RunRecord, graph: RunGraph, tasks: Map<string, PlannedTask>, names: readonly string[],
    changed: Set<string>, now: Date): Promise<StoredOutboxMessage[]> {
    const attempts: NewAttempt[] = [];
    const messages: OutboxMessage[] = [];
    const failures: { attemptId: string; task: string; message: string }[] = [];
    let queue = [...names];
    while (queue.length > 0) {
      const needed = [...new Set(queue.flatMap((name) => {
        const spec = graph.tasks.get(name);
        return spec ? outputsNeeded(spec) : [];
      }))];
      const outputs = needed.length > 0 ? await listTaskOutputs(tx, run.id, needed) : new Map<string, Record<string, unknown>>();
      const failed: string[] = [];
      for (const name of queue) {
        const task = tasks.get(name) as PlannedTask;
        const spec = graph.tasks.get(name);
        if (!spec) continue;
        const attemptId = newId();
        attempts.push({ id: attemptId, task: name, number: task.currentAttempt, queueTime: now });
        changed.add(name);
        try {
          const traceparent = this.options.traceContext?.(run, name, task.currentAttempt, attemptId) ?? '';
          messages.push(buildDispatch({ run, task: spec, attemptId, attempt: task.currentAttempt, outputs, traceparent, now }));
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          failures.push({ attemptId, task: name, message: err.message });
          task.state = 'failed';
          task.endTime = now;
          failed.push(name);
        }
      }
      const next = propagate(graph, tasks, failed, now);
      for (const name of next.changed) changed.add(name);
      queue = next.dispatch;
    }
    await insertAttempts(tx, run.id, attempts);
    for (const f of failures) {
      await finishAttempt(tx, { id: f.attemptId, state: 'failed', exitCode: null, reason: 'TEMPLATE_ERROR', message: f.message, outputs: null, executor: '', startTime: null, endTime: now });
    }
    const ids = await insertOutbox(tx, messages);
    return messages.map((m, i) => ({ ...m, id: ids[i] as number }));
  }

  /** Ends the run when every task is terminal; marks it running when work on it began. */
  private async settleRun(tx: PoolClient, run: RunRecord, tasks: Map<string, PlannedTask>, started: boolean, now: Date): Promise<EndedRun | undefined> {
    const state = deriveRunState([...tasks.values()].map((t) => t.state));
    if (state && !isTerminalRunState(run.state)) {
      const failedTasks = [...tasks.entries()].filter(([, t]) => t.state === 'failed').map(([name]) => name);
      await finishRun(tx, run.id, state, now, failedTasks.length ? `failed tasks: ${failedTasks.join(', ')}` : '');
      return { runId: run.id, workflowId: run.workflowId, state, createTime: run.createTime, endTime: now, callerTraceparent: run.traceparent };
    }
    if (started && run.state === 'queued') await markRunRunning(tx, run.id, now);
    return undefined;
  }
}

function change(task: string, t: PlannedTask) {
  return { task, state: t.state, currentAttempt: t.currentAttempt, retryAt: t.retryAt, startTime: t.startTime, endTime: t.endTime };
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
