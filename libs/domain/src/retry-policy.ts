/**
 * Retry policy. A task gets `retries` extra attempts after its first; attempts are numbered from 1.
 * The delay is fixed for now: the signature takes the attempt number so that exponential backoff
 * with jitter can come without changing callers.
 */
import type { TaskSpec } from './workflow';

/**
 * How long to wait, in ms, before starting the attempt after `attemptNumber` failed.
 *
 * @param attemptNumber the 1-based number of the attempt that just failed.
 */
export function retryDelayFor(task: Pick<TaskSpec, 'retryDelayMs'>, attemptNumber: number): number {
  void attemptNumber;
  return Math.max(0, task.retryDelayMs);
}

/**
 * True if the task may be retried after attempt `attemptNumber` failed (or was lost):
 * attempt 1 is the first, so a task with `retries: 2` runs at most 3 attempts.
 */
export function hasRetriesLeft(task: Pick<TaskSpec, 'retries'>, attemptNumber: number): boolean {
  return attemptNumber <= task.retries;
}
