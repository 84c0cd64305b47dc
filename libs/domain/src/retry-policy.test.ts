import { hasRetriesLeft, retryDelayFor } from './retry-policy';

describe('retryDelayFor', () => {
  it('is the task’s fixed delay for every attempt', () => {
    const task = { retryDelayMs: 30_000 };
    expect([1, 2, 5].map((n) => retryDelayFor(task, n))).toEqual([30_000, 30_000, 30_000]);
  });
  it('is zero for a zero delay', () => {
    expect(retryDelayFor({ retryDelayMs: 0 }, 1)).toBe(0);
  });
});

describe('hasRetriesLeft', () => {
  it('allows retries attempts after the first', () => {
    const task = { retries: 2 };
    expect([1, 2, 3, 4].map((n) => hasRetriesLeft(task, n))).toEqual([true, true, false, false]);
  });
  it('never retries a task with no retries', () => {
    expect(hasRetriesLeft({ retries: 0 }, 1)).toBe(false);
  });
});
