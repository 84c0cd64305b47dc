import {
  ATTEMPT_STATES,
  RUN_STATES,
  TASK_RUN_STATES,
  deriveRunState,
  isAttemptState,
  isRunState,
  isTaskRunState,
  isTerminalAttemptState,
  isTerminalRunState,
  isTerminalTaskState,
  type TaskRunState,
} from './states';

describe('terminal states', () => {
  it('classifies every task run state', () => {
    const terminal = TASK_RUN_STATES.filter(isTerminalTaskState);
    expect(terminal).toEqual(['succeeded', 'failed', 'skipped', 'upstream_failed', 'cancelled']);
  });
  it('classifies every run state', () => {
    expect(RUN_STATES.filter(isTerminalRunState)).toEqual(['succeeded', 'failed', 'cancelled']);
  });
  it('classifies every attempt state', () => {
    expect(ATTEMPT_STATES.filter(isTerminalAttemptState)).toEqual(['succeeded', 'failed', 'lost', 'cancelled']);
  });
});

describe('type guards', () => {
  it('accept known states and reject others', () => {
    expect(isTaskRunState('up_for_retry')).toBe(true);
    expect(isTaskRunState('UP_FOR_RETRY')).toBe(false);
    expect(isRunState('queued')).toBe(true);
    expect(isRunState('pending')).toBe(false);
    expect(isAttemptState('lost')).toBe(true);
    expect(isAttemptState('skipped')).toBe(false);
  });
});

describe('deriveRunState', () => {
  const cases: [TaskRunState[], string | undefined][] = [
    [[], 'succeeded'],
    [['succeeded', 'succeeded'], 'succeeded'],
    [['succeeded', 'skipped'], 'succeeded'],
    [['skipped'], 'succeeded'],
    [['succeeded', 'running'], undefined],
    [['failed', 'pending'], undefined],
    [['failed', 'up_for_retry'], undefined],
    [['succeeded', 'queued'], undefined],
    [['succeeded', 'failed'], 'failed'],
    [['upstream_failed', 'succeeded'], 'failed'],
    [['cancelled', 'succeeded'], 'cancelled'],
    [['cancelled', 'failed'], 'failed'],
    [['cancelled', 'upstream_failed', 'skipped'], 'failed'],
  ];
  it.each(cases)('%j → %s', (states, expected) => {
    expect(deriveRunState(states)).toBe(expected);
  });
});
