import type { RunningTask, Runtime, TaskLaunch, TaskResult } from './runtime';

/** The name of the noop runtime, as a dispatch's `runtime` field spells it. */
export const NOOP_RUNTIME_NAME = 'noop';

const noCancel = (): void => undefined;

/**
 * A runtime whose tasks succeed at once with no output: for benchmarks of everything around the
 * task. No timers, no I/O; the executor runs it through {@link Runtime.runInline}.
 */
export function createNoopRuntime(): Runtime {
  const runInline = (_task: TaskLaunch): TaskResult => {
    const now = new Date();
    return { ok: true, exitCode: 0, startTime: now, endTime: now };
  };
  return {
    name: NOOP_RUNTIME_NAME,
    runInline,
    launch(task: TaskLaunch): RunningTask {
      const result = runInline(task);
      return { started: Promise.resolve(result.startTime), result: Promise.resolve(result), cancel: noCancel };
    },
  };
}
