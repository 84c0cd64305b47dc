import { createHash } from 'node:crypto';

/** The longest Job name: its value goes into the pods' `job-name` label, which holds 63 characters. */
export const MAX_JOB_NAME = 63;

/**
 * The Job name of an attempt: `<task>-<attemptId>`, lowercased and DNS-safe, at most 63 characters.
 * Deterministic, so an executor that receives a redelivered dispatch finds the Job a previous one
 * created; unique per attempt because the attempt id is. The task part is only for people reading
 * `kubectl get jobs` and is shortened first.
 */
export function jobNameFor(attemptId: string, task: string): string {
  const id = /^[a-z0-9]+$/.test(attemptId) && attemptId.length <= 40 ? attemptId : createHash('sha256').update(attemptId).digest('hex').slice(0, 32);
  const room = MAX_JOB_NAME - id.length - 1;
  const prefix = task.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, room).replace(/-+$/, '');
  return prefix === '' ? `skein-${id}`.slice(0, MAX_JOB_NAME) : `${prefix}-${id}`;
}
