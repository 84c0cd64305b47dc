import { evaluateTriggerRuleForOutcomes, isTerminalTaskState, type TaskRunState } from '@skein/domain';
import type { TaskRunRecord, TaskRunWrite, UpstreamCounts } from '@skein/store';
import type { RunGraph } from './run-graph';

/** A task run as one transaction sees and changes it. */
export interface WorkingTask {
  state: TaskRunState;
  currentAttempt: number;
  /** Attempts that ran and failed: what the retry budget counts. */
  failedAttempts: number;
  retryAt: Date | null;
  startTime: Date | null;
  endTime: Date | null;
  upstream: { -readonly [K in keyof UpstreamCounts]: UpstreamCounts[K] };
}

type Terminal = 'succeeded' | 'failed' | 'skipped' | 'upstream_failed' | 'cancelled';

/**
 * The changes one scheduler transaction makes to a run, computed without I/O. It holds only the task
 * runs it was given: when a task ends, each downstream task's upstream counters move and its trigger
 * rule is evaluated from them, so an event costs O(its edges), never O(tasks in the run). Downstream
 * tasks it has not been given are reported by `missing()`; the caller loads them and calls `resolve()`.
 */
export class RunTransition {
  private readonly tasks = new Map<string, WorkingTask>();
  private readonly changed = new Set<string>();
  /** Downstream tasks whose upstream just ended, with how. */
  private pending: { task: string; outcome: Terminal }[] = [];
  private readonly ready: string[] = [];
  unfinishedDelta = 0;
  failedDelta = 0;
  cancelledDelta = 0;

  constructor(private readonly graph: RunGraph, private readonly now: Date) {}

  /** True when the run's workflow version limits its active runs (maxActiveRuns). */
  get limitsActiveRuns(): boolean {
    return this.graph.spec.spec.maxActiveRuns !== undefined;
  }

  /** True when some of the run's tasks wait for slots (pools, maxActiveTasks). */
  get limitsTasks(): boolean {
    return this.graph.limited.size > 0;
  }

  /** Whether the task waits for a slot before it is dispatched. */
  isLimited(task: string): boolean {
    return this.graph.limited.has(task);
  }

  /** True when some of the run's tasks have their own queuedTimeout. */
  get hasQueuedTimeouts(): boolean {
    return this.graph.queuedTimeouts;
  }

  /** The task's own queuedTimeout in ms; undefined: the scheduler's default. */
  queuedTimeoutOf(task: string): number | undefined {
    return this.graph.tasks.get(task)?.queuedTimeoutMs;
  }

  /** The workflow's run timeout, in ms; undefined: none. */
  get timeoutMs(): number | undefined {
    return this.graph.spec.spec.timeoutMs;
  }

  /** Adds task runs read from the store (ignored when already held: this transaction's view wins). */
  load(records: readonly TaskRunRecord[]): void {
    for (const r of records) {
      if (this.tasks.has(r.task)) continue;
      this.tasks.set(r.task, {
        state: r.state, currentAttempt: r.currentAttempt, failedAttempts: r.failedAttempts, retryAt: r.retryAt, startTime: r.startTime,
        endTime: r.endTime, upstream: { ...r.upstream },
      });
    }
  }

  /** A task this transaction holds. */
  get(task: string): WorkingTask | undefined {
    return this.tasks.get(task);
  }

  /** Records a change made by the caller (state, attempt, times) so it is written. */
  touch(task: string): void {
    this.changed.add(task);
  }

  /** The task ended: updates counters and queues the evaluation of its downstream tasks. */
  end(task: string, state: Terminal, endTime: Date): void {
    const t = this.tasks.get(task);
    if (!t || isTerminalTaskState(t.state)) return;
    t.state = state;
    t.endTime = endTime;
    t.retryAt = null;
    this.changed.add(task);
    this.unfinishedDelta -= 1;
    if (state === 'failed' || state === 'upstream_failed') this.failedDelta += 1;
    if (state === 'cancelled') this.cancelledDelta += 1;
    for (const down of this.graph.downstream.get(task) ?? []) this.pending.push({ task: down, outcome: state });
  }

  /** The run is cancelled: the task ends CANCELLED without evaluating anything downstream. */
  cancel(task: string, endTime: Date): boolean {
    const t = this.tasks.get(task);
    if (!t || isTerminalTaskState(t.state)) return false;
    t.state = 'cancelled';
    t.endTime = endTime;
    t.retryAt = null;
    this.changed.add(task);
    this.unfinishedDelta -= 1;
    this.cancelledDelta += 1;
    return true;
  }

  /** The task is to be dispatched again (a retry without delay) or for the first time. */
  queue(task: string): void {
    const t = this.tasks.get(task);
    if (!t) return;
    t.state = 'queued';
    t.currentAttempt += 1;
    t.retryAt = null;
    this.changed.add(task);
    this.ready.push(task);
  }

  /** Downstream tasks to evaluate that this transaction does not hold yet. */
  missing(): string[] {
    return [...new Set(this.pending.map((p) => p.task).filter((task) => !this.tasks.has(task)))];
  }

  /** Evaluates queued downstream tasks (all must be loaded), cascading skips and upstream failures. */
  resolve(): void {
    while (this.pending.length > 0) {
      if (this.missing().length > 0) return;
      const batch = this.pending;
      this.pending = [];
      for (const { task, outcome } of batch) {
        const t = this.tasks.get(task) as WorkingTask;
        const u = t.upstream;
        if (outcome === 'succeeded') u.succeeded += 1;
        else if (outcome === 'failed') u.failed += 1;
        else if (outcome === 'upstream_failed') u.upstreamFailed += 1;
        else if (outcome === 'skipped') u.skipped += 1;
        else u.cancelled += 1;
        this.changed.add(task);
      }
      for (const task of new Set(batch.map((p) => p.task))) this.decide(task);
    }
  }

  /** Applies the trigger rule of a pending task to its current upstream counts. */
  private decide(task: string): void {
    const t = this.tasks.get(task);
    const spec = this.graph.tasks.get(task);
    if (!t || !spec || t.state !== 'pending') return;
    const u = t.upstream;
    const decision = evaluateTriggerRuleForOutcomes(spec.triggerRule, {
      total: u.total, succeeded: u.succeeded, failed: u.failed + u.cancelled, upstreamFailed: u.upstreamFailed, skipped: u.skipped,
    });
    if (decision === 'run') this.queue(task);
    else if (decision === 'skip') this.end(task, 'skipped', this.now);
    else if (decision === 'upstream_failed') this.end(task, 'upstream_failed', this.now);
  }

  /**
   * Clears tasks for a re-run (`skein runs retry`): they go back to pending with a fresh retry budget,
   * every upstream counter of the run is recounted from the states (all tasks must be loaded), and the
   * cleared tasks' rules are evaluated in DAG order. Returns the counter changes of the run.
   */
  clear(tasks: ReadonlySet<string>): { unfinishedDelta: number; failedDelta: number; cancelledDelta: number } {
    const before = { unfinished: this.unfinishedDelta, failed: this.failedDelta, cancelled: this.cancelledDelta };
    for (const task of tasks) {
      const t = this.tasks.get(task);
      if (!t) continue;
      if (isTerminalTaskState(t.state)) this.unfinishedDelta += 1;
      if (t.state === 'failed' || t.state === 'upstream_failed') this.failedDelta -= 1;
      if (t.state === 'cancelled') this.cancelledDelta -= 1;
      t.state = 'pending';
      t.failedAttempts = 0;
      t.retryAt = null;
      t.endTime = null;
      this.changed.add(task);
    }
    for (const [task, t] of this.tasks) {
      const counts = { total: t.upstream.total, succeeded: 0, failed: 0, upstreamFailed: 0, skipped: 0, cancelled: 0 };
      for (const up of this.graph.upstream.get(task) ?? []) {
        const state = this.tasks.get(up)?.state;
        if (state === 'succeeded') counts.succeeded += 1;
        else if (state === 'failed') counts.failed += 1;
        else if (state === 'upstream_failed') counts.upstreamFailed += 1;
        else if (state === 'skipped') counts.skipped += 1;
        else if (state === 'cancelled') counts.cancelled += 1;
      }
      t.upstream = counts;
      this.changed.add(task);
    }
    for (const task of this.graph.order) if (tasks.has(task)) this.decide(task);
    this.resolve();
    return {
      unfinishedDelta: this.unfinishedDelta - before.unfinished,
      failedDelta: this.failedDelta - before.failed,
      cancelledDelta: this.cancelledDelta - before.cancelled,
    };
  }

  /** True while downstream evaluations wait for rows to be loaded. */
  get unresolved(): boolean {
    return this.pending.length > 0;
  }

  /** Tasks queued since the last call, to create attempts for. */
  takeReady(): string[] {
    return this.ready.splice(0, this.ready.length);
  }

  /** The tasks it holds that have not ended (after its changes). */
  unfinished(): string[] {
    return [...this.tasks].filter(([, t]) => !isTerminalTaskState(t.state)).map(([task]) => task);
  }

  /** Every changed task run, as written to the store. */
  writes(): TaskRunWrite[] {
    return [...this.changed].map((task) => this.written(task));
  }

  /** Every task run of the run, in the graph's order (all must be loaded): a new run's, to insert. */
  all(): TaskRunWrite[] {
    return this.graph.order.map((task) => this.written(task));
  }

  private written(task: string): TaskRunWrite {
    const t = this.tasks.get(task) as WorkingTask;
    return {
      task, state: t.state, currentAttempt: t.currentAttempt, failedAttempts: t.failedAttempts, retryAt: t.retryAt, startTime: t.startTime,
      endTime: t.endTime, upstream: t.upstream,
    };
  }
}

/**
 * The task runs of a new run: every rule evaluated against all-pending upstream, so roots (and
 * `always` tasks) are queued at creation.
 */
export function initialTaskRuns(graph: RunGraph): { task: string; state: TaskRunState; currentAttempt: number; upstreamTotal: number }[] {
  return graph.order.map((task) => {
    const spec = graph.tasks.get(task);
    const total = graph.upstream.get(task)?.length ?? 0;
    const run = spec && evaluateTriggerRuleForOutcomes(spec.triggerRule, { total, succeeded: 0, failed: 0, upstreamFailed: 0, skipped: 0 }) === 'run';
    return { task, state: run ? 'queued' : 'pending', currentAttempt: run ? 1 : 0, upstreamTotal: total };
  });
}
