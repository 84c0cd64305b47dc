import type { TaskRunState } from './states';

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

/**
 * How a task's upstream tasks have ended so far: what a trigger rule looks at. The scheduler keeps
 * these counts per task run, so a rule is evaluated without reading every upstream task.
 */
export interface UpstreamOutcomes {
  /** Number of upstream tasks. */
  readonly total: number;
  readonly succeeded: number;
  /** Failed or cancelled: the upstream task itself did not succeed. */
  readonly failed: number;
  readonly upstreamFailed: number;
  readonly skipped: number;
}

/** Counts the outcomes of a list of upstream states. */
export function countUpstreamOutcomes(states: readonly TaskRunState[]): UpstreamOutcomes {
  let succeeded = 0, failed = 0, upstreamFailed = 0, skipped = 0;
  for (const s of states) {
    if (s === 'succeeded') succeeded++;
    else if (s === 'failed' || s === 'cancelled') failed++;
    else if (s === 'upstream_failed') upstreamFailed++;
    else if (s === 'skipped') skipped++;
  }
  return { total: states.length, succeeded, failed, upstreamFailed, skipped };
}

export function evaluateTriggerRule(rule: TriggerRule, upstreamStates: readonly TaskRunState[]): TriggerDecision {
  return evaluateTriggerRuleForOutcomes(rule, countUpstreamOutcomes(upstreamStates));
}

/** The same decision as {@link evaluateTriggerRule}, from counted outcomes. */
export function evaluateTriggerRuleForOutcomes(rule: TriggerRule, c: UpstreamOutcomes): TriggerDecision {
  if (c.total === 0) return 'run';
  const done = c.succeeded + c.failed + c.upstreamFailed + c.skipped;
  const allDone = done >= c.total;
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
