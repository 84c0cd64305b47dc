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

describe('retry backoff', () => {
  const exponential = { retryDelayMs: 1000, retryBackoff: 'exponential' as const };

  it('doubles the delay with every failure, up to the cap', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayFor(exponential, n))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayFor({ ...exponential, maxRetryDelayMs: 5000 }, 4)).toBe(5000);
    expect(retryDelayFor(exponential, 40)).toBe(3_600_000);
  });

  it('keeps a fixed delay fixed', () => {
    expect([1, 2, 3].map((n) => retryDelayFor({ retryDelayMs: 1000 }, n))).toEqual([1000, 1000, 1000]);
  });

  it('puts a jittered delay in the upper half of the delay', () => {
    expect(retryDelayFor({ ...exponential, retryJitter: true }, 2, () => 0)).toBe(1000);
    expect(retryDelayFor({ ...exponential, retryJitter: true }, 2, () => 0.999999)).toBe(2000);
    expect(retryDelayFor({ retryDelayMs: 1000, retryJitter: true }, 1, () => 0.5)).toBe(750);
  });
});
