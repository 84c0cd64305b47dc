import { evaluateTriggerRule, type TaskRunState } from '@skein/domain';
import type { RunGraph } from './run-graph';

/** A task run's state as the planner sees it. */
export interface PlannedTask {
  state: TaskRunState;
  currentAttempt: number;
  retryAt: Date | null;
  startTime: Date | null;
  endTime: Date | null;
}

/**
 * Resolves the trigger rules downstream of tasks that just reached a terminal state: pending tasks
 * become queued (to dispatch), skipped or upstream_failed, and those outcomes propagate further.
 * Pure: mutates `tasks` in place and returns the names it changed and the ones to dispatch.
 */
export function propagate(graph: RunGraph, tasks: Map<string, PlannedTask>, finished: Iterable<string>, now: Date): { changed: Set<string>; dispatch: string[] } {
  const changed = new Set<string>();
  const dispatch: string[] = [];
  const work: string[] = [];
  for (const name of finished) for (const down of graph.downstream.get(name) ?? []) work.push(down);
  while (work.length > 0) {
    const name = work.pop() as string;
    const task = tasks.get(name);
    const spec = graph.tasks.get(name);
    if (!task || !spec || task.state !== 'pending') continue;
    const upstreamStates = (graph.upstream.get(name) ?? []).map((up) => tasks.get(up)?.state ?? 'pending');
    const verdict = evaluateTriggerRule(spec.triggerRule, upstreamStates);
    if (verdict === 'wait') continue;
    changed.add(name);
    if (verdict === 'run') {
      task.state = 'queued';
      task.currentAttempt += 1;
      dispatch.push(name);
      continue;
    }
    task.state = verdict === 'skip' ? 'skipped' : 'upstream_failed';
    task.endTime = now;
    for (const down of graph.downstream.get(name) ?? []) work.push(down);
  }
  return { changed, dispatch };
}

/**
 * The initial states of a new run: every task's rule is evaluated once against all-pending upstream,
 * so roots (and `always` tasks) are queued at creation.
 */
export function initialPlan(graph: RunGraph): { tasks: Map<string, PlannedTask>; dispatch: string[] } {
  const tasks = new Map<string, PlannedTask>();
  for (const name of graph.order) tasks.set(name, { state: 'pending', currentAttempt: 0, retryAt: null, startTime: null, endTime: null });
  const dispatch: string[] = [];
  for (const name of graph.order) {
    const spec = graph.tasks.get(name);
    const upstreamStates = (graph.upstream.get(name) ?? []).map(() => 'pending' as const);
    if (spec && evaluateTriggerRule(spec.triggerRule, upstreamStates) === 'run') {
      const task = tasks.get(name) as PlannedTask;
      task.state = 'queued';
      task.currentAttempt = 1;
      dispatch.push(name);
    }
  }
  return { tasks, dispatch };
}
