/**
 * The states of runs, task runs and attempts. Each matches the proto enum of the same name
 * (`skein.v1.RunState`, ...) without its prefix, in lower case: `TASK_RUN_STATE_UP_FOR_RETRY`
 * is `'up_for_retry'`.
 */

/** Every task run state, in lifecycle order. */
export const TASK_RUN_STATES = [
  'pending',
  'scheduled',
  'queued',
  'running',
  'succeeded',
  'failed',
  'up_for_retry',
  'skipped',
  'upstream_failed',
  'cancelled',
] as const;

/**
 * A task's state within one run. `pending`: waiting for its trigger rule; `scheduled`: ready, waiting
 * for a slot (its pool's or its workflow's maxActiveTasks); `queued`: dispatched, not started; `up_for_retry`: failed with retries left, waiting out its retry delay.
 */
export type TaskRunState = (typeof TASK_RUN_STATES)[number];

/** Every run state. */
export const RUN_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** A run's state. */
export type RunState = (typeof RUN_STATES)[number];

/** Every attempt state. */
export const ATTEMPT_STATES = ['queued', 'running', 'succeeded', 'failed', 'lost', 'cancelled'] as const;

/** One attempt at running a task. `lost`: its executor died and the process is gone. */
export type AttemptState = (typeof ATTEMPT_STATES)[number];

const TERMINAL_TASK_STATES: ReadonlySet<TaskRunState> = new Set<TaskRunState>([
  'succeeded',
  'failed',
  'skipped',
  'upstream_failed',
  'cancelled',
]);

const TERMINAL_RUN_STATES: ReadonlySet<RunState> = new Set<RunState>(['succeeded', 'failed', 'cancelled']);

const TERMINAL_ATTEMPT_STATES: ReadonlySet<AttemptState> = new Set<AttemptState>([
  'succeeded',
  'failed',
  'lost',
  'cancelled',
]);

/** A terminal task run never changes state again (`up_for_retry` is not terminal). */
export function isTerminalTaskState(state: TaskRunState): boolean {
  return TERMINAL_TASK_STATES.has(state);
}

/** A terminal run never changes state again. */
export function isTerminalRunState(state: RunState): boolean {
  return TERMINAL_RUN_STATES.has(state);
}

/** A terminal attempt never changes state again. */
export function isTerminalAttemptState(state: AttemptState): boolean {
  return TERMINAL_ATTEMPT_STATES.has(state);
}

/** Type guard for a string read from storage or the wire. */
export function isTaskRunState(value: string): value is TaskRunState {
  return (TASK_RUN_STATES as readonly string[]).includes(value);
}

/** Type guard for a string read from storage or the wire. */
export function isRunState(value: string): value is RunState {
  return (RUN_STATES as readonly string[]).includes(value);
}

/** Type guard for a string read from storage or the wire. */
export function isAttemptState(value: string): value is AttemptState {
  return (ATTEMPT_STATES as readonly string[]).includes(value);
}

/**
 * A run's final state from its task runs' states, or undefined while any task is not terminal.
 * `failed` if any task failed or is upstream_failed; else `cancelled` if any was cancelled; else
 * `succeeded` (skipped tasks count as success, as does a run with no tasks).
 */
export function deriveRunState(taskStates: readonly TaskRunState[]): RunState | undefined {
  if (!taskStates.every(isTerminalTaskState)) return undefined;
  if (taskStates.some((s) => s === 'failed' || s === 'upstream_failed')) return 'failed';
  if (taskStates.includes('cancelled')) return 'cancelled';
  return 'succeeded';
}
