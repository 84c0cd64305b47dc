import type { TaskRunState } from './states';
import { TASK_RUN_STATES } from './states';
import { DEFAULT_TRIGGER_RULE, TRIGGER_RULES, evaluateTriggerRule, isTriggerRule, type TriggerDecision, type TriggerRule } from './trigger-rules';

const S: TaskRunState = 'succeeded';
const F: TaskRunState = 'failed';
const U: TaskRunState = 'upstream_failed';
const K: TaskRunState = 'skipped';
const C: TaskRunState = 'cancelled';
const R: TaskRunState = 'running';
const P: TaskRunState = 'pending';
const Q: TaskRunState = 'queued';
const Y: TaskRunState = 'up_for_retry';

// Each column is one upstream situation; each row is a rule and its decision for every column.
const situations: TaskRunState[][] = [
  [], // 0 no upstream
  [S, S], // 1 all succeeded
  [S, R], // 2 one succeeded, one running
  [S, F], // 3
  [F, F], // 4 all failed
  [F, R], // 5 one failed, one running
  [U, F], // 6
  [S, K], // 7
  [K, K], // 8 all skipped
  [K, R], // 9
  [C, S], // 10 cancelled counts as failed
  [P, Q], // 11 nothing settled
  [F, K], // 12
  [Y], // 13 retrying is not settled
  [U], // 14
];

const run = 'run', wait = 'wait', skip = 'skip', upf = 'upstream_failed';
const table: Record<TriggerRule, TriggerDecision[]> = {
  //                       0    1    2     3    4    5     6    7     8     9     10   11    12   13    14
  allSuccess: /*        */ [run, run, wait, upf, upf, upf, upf, skip, skip, skip, upf, wait, upf, wait, upf],
  allDone: /*           */ [run, run, wait, run, run, wait, run, run, run, wait, run, wait, run, wait, run],
  allFailed: /*         */ [run, skip, skip, skip, run, wait, run, skip, skip, skip, skip, wait, skip, wait, run],
  oneSuccess: /*        */ [run, run, run, run, upf, wait, upf, run, skip, wait, run, wait, upf, wait, upf],
  oneFailed: /*         */ [run, skip, wait, run, run, run, run, skip, skip, wait, run, wait, run, wait, run],
  noneFailed: /*        */ [run, run, wait, upf, upf, upf, upf, run, run, wait, upf, wait, upf, wait, upf],
  noneFailedMinOneSuccess: [run, run, wait, upf, upf, upf, upf, run, skip, wait, upf, wait, upf, wait, upf],
  always: /*            */ [run, run, run, run, run, run, run, run, run, run, run, run, run, run, run],
};

describe('evaluateTriggerRule', () => {
  const cases = TRIGGER_RULES.flatMap((rule) =>
    situations.map((states, i) => [rule, JSON.stringify(states), states, table[rule][i]] as const),
  );
  it.each(cases)('%s with %s → %s', (rule, _label, states, expected) => {
    expect(evaluateTriggerRule(rule, states)).toBe(expected);
  });

  it('has a table row for every rule and a cell for every situation', () => {
    for (const rule of TRIGGER_RULES) expect(table[rule]).toHaveLength(situations.length);
  });

  it('does not depend on the order of upstream states', () => {
    for (const rule of TRIGGER_RULES) {
      for (const states of situations) {
        expect(evaluateTriggerRule(rule, [...states].reverse())).toBe(evaluateTriggerRule(rule, states));
      }
    }
  });

  it('never settles while every upstream is non-terminal, except always', () => {
    const open: TaskRunState[] = ['pending', 'queued', 'running', 'up_for_retry'];
    for (const rule of TRIGGER_RULES) {
      for (const s of open) expect(evaluateTriggerRule(rule, [s, s])).toBe(rule === 'always' ? 'run' : 'wait');
    }
  });

  it('always decides once every upstream is terminal', () => {
    const terminal: TaskRunState[] = ['succeeded', 'failed', 'skipped', 'upstream_failed', 'cancelled'];
    for (const rule of TRIGGER_RULES) {
      for (const a of terminal) for (const b of terminal) expect(evaluateTriggerRule(rule, [a, b])).not.toBe('wait');
    }
    expect(TASK_RUN_STATES).toEqual(expect.arrayContaining(terminal));
  });
});

describe('isTriggerRule', () => {
  it('accepts every rule and nothing else', () => {
    for (const rule of TRIGGER_RULES) expect(isTriggerRule(rule)).toBe(true);
    expect(isTriggerRule('all_success')).toBe(false);
    expect(DEFAULT_TRIGGER_RULE).toBe('allSuccess');
  });
});
