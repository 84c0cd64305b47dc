/**
 * Retry policy. A task gets `retries` extra attempts after its first failure; the delay before each is
 * `retryDelay`, doubling with every failure under `retryBackoff: exponential` (capped at
 * `maxRetryDelay`), and with `retryJitter` a random point in the upper half of that delay, so that
 * tasks failing together do not all come back at once.
 */
import type { TaskSpec } from './workflow';

/** The cap of an exponential delay when the task sets none: one hour. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * How long to wait, in ms, before the next attempt after `failures` attempts failed (1 after the first).
 *
 * @param random a number in [0, 1), for jitter. @default Math.random
 */
export function retryDelayFor(task: Pick<TaskSpec, 'retryDelayMs' | 'retryBackoff' | 'maxRetryDelayMs' | 'retryJitter'>, failures: number,
  random: () => number = Math.random): number {
  const base = Math.max(0, task.retryDelayMs);
  let delay = base;
  if (task.retryBackoff === 'exponential') {
    const cap = task.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    delay = Math.min(cap, base * 2 ** Math.min(Math.max(0, failures - 1), 52));
  }
  if (task.retryJitter) delay = delay / 2 + random() * (delay / 2);
  return Math.round(delay);
}

/**
 * True if the task may be retried after `failures` attempts failed: a task with `retries: 2` runs at
 * most 3 attempts that fail.
 */
export function hasRetriesLeft(task: Pick<TaskSpec, 'retries'>, failures: number): boolean {
  return failures <= task.retries;
}
