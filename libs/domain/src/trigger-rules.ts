import { isTerminalTaskState, type TaskRunState } from './states';

/** Every trigger rule, in the order the docs list them. */
export const TRIGGER_RULES = [
  'allSuccess',
  'allDone',
  'allFailed',
  'oneSuccess',
  'oneFailed',
  'noneFailed',
  'noneFailedMinOneSuccess',
  'always',
] as const;

/** When a task may run, given its direct upstream tasks' states (Airflow's trigger rules). */
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** The rule a task has unless it sets one. */
export const DEFAULT_TRIGGER_RULE: TriggerRule = 'allSuccess';

/**
 * What to do with a pending task: keep waiting, run it, or settle it as skipped / upstream_failed
 * without running.
 */
export type TriggerDecision = 'wait' | 'run' | 'skip' | 'upstream_failed';

/** Type guard for a string read from storage or the wire. */
export function isTriggerRule(value: string): value is TriggerRule {
  return (TRIGGER_RULES as readonly string[]).includes(value);
}

interface Counts {
  readonly total: number;
  readonly done: number;
  readonly succeeded: number;
  /** failed and cancelled: the upstream task itself did not succeed. */
  readonly failed: number;
  readonly upstreamFailed: number;
  readonly skipped: number;
}

function count(states: readonly TaskRunState[]): Counts {
  let done = 0, succeeded = 0, failed = 0, upstreamFailed = 0, skipped = 0;
  for (const s of states) {
    if (isTerminalTaskState(s)) done++;
    if (s === 'succeeded') succeeded++;
    else if (s === 'failed' || s === 'cancelled') failed++;
    else if (s === 'upstream_failed') upstreamFailed++;
    else if (s === 'skipped') skipped++;
  }
  return { total: states.length, done, succeeded, failed, upstreamFailed, skipped };
}

/**
 * Evaluates a trigger rule over the states of a task's direct upstream tasks. Pure and total:
 * the scheduler calls it whenever an upstream task settles. A task with no upstream runs.
 * A cancelled upstream counts as failed. Decisions are made as early as they are certain
 * (allSuccess settles as upstream_failed on the first failure, without waiting for the rest).
 *
 * | rule | run | skip | upstream_failed |
 * |---|---|---|---|
 * | allSuccess | all succeeded | any skipped (and none failed) | any failed / upstream_failed |
 * | allDone | all terminal | — | — |
 * | allFailed | all failed / upstream_failed | any succeeded or skipped | — |
 * | oneSuccess | any succeeded | all terminal, all skipped | all terminal, none succeeded |
 * | oneFailed | any failed / upstream_failed | all terminal, none failed | — |
 * | noneFailed | all terminal, none failed | — | any failed / upstream_failed |
 * | noneFailedMinOneSuccess | all terminal, none failed, ≥1 succeeded | all terminal, all skipped | any failed / upstream_failed |
 * | always | immediately | — | — |
 */
export function evaluateTriggerRule(rule: TriggerRule, upstreamStates: readonly TaskRunState[]): TriggerDecision {
  if (upstreamStates.length === 0) return 'run';
  const c = count(upstreamStates);
  const allDone = c.done === c.total;
  const anyFailed = c.failed + c.upstreamFailed > 0;
  switch (rule) {
    case 'allSuccess':
      if (c.succeeded === c.total) return 'run';
      if (anyFailed) return 'upstream_failed';
      if (c.skipped > 0) return 'skip';
      return 'wait';
    case 'allDone':
      return allDone ? 'run' : 'wait';
    case 'allFailed':
      if (c.succeeded > 0 || c.skipped > 0) return 'skip';
      return c.failed + c.upstreamFailed === c.total ? 'run' : 'wait';
    case 'oneSuccess':
      if (c.succeeded > 0) return 'run';
      if (!allDone) return 'wait';
      return c.skipped === c.total ? 'skip' : 'upstream_failed';
    case 'oneFailed':
      if (anyFailed) return 'run';
      return allDone ? 'skip' : 'wait';
    case 'noneFailed':
      if (anyFailed) return 'upstream_failed';
      return allDone ? 'run' : 'wait';
    case 'noneFailedMinOneSuccess':
      if (anyFailed) return 'upstream_failed';
      if (!allDone) return 'wait';
      return c.succeeded > 0 ? 'run' : 'skip';
    case 'always':
      return 'run';
  }
}
