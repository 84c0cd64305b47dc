import { TaskNotStartedError, type RunningTask, type TaskLaunch, type TaskOutput } from '@skein/runtime';

/**
 * A launch function for a task that cannot run here (no such runtime, a runtime that threw): it
 * fails at once with SPAWN_FAILED and `message`, through the same path as any other attempt, so the
 * task's log and events say why.
 */
export function unavailableTask(message: string): (task: TaskLaunch, onOutput: (line: TaskOutput) => void) => RunningTask {
  return () => {
    const now = new Date();
    const started = Promise.reject(new TaskNotStartedError(message));
    started.catch(() => undefined);
    return {
      started,
      result: Promise.resolve({ ok: false, reason: 'SPAWN_FAILED', message, startTime: now, endTime: now }),
      cancel: () => undefined,
    };
  };
}
