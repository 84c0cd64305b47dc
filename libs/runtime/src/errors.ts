/**
 * Rejection of {@link RunningTask.started} for a task that never started: it could not be spawned,
 * had nothing the runtime can run, or was cancelled first. The task's result says the same thing
 * as a {@link TaskResult}; this error only lets `started` settle.
 */
export class TaskNotStartedError extends Error {
  override readonly name = 'TaskNotStartedError';
  readonly code = 'TASK_NOT_STARTED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The file at `SKEIN_OUTPUT_PATH` is not a JSON object within the size limit. */
export class TaskOutputInvalidError extends Error {
  override readonly name = 'TaskOutputInvalidError';
  readonly code = 'OUTPUT_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for a {@link TaskNotStartedError} (also across module copies). */
export function isTaskNotStarted(error: unknown): error is TaskNotStartedError {
  return error instanceof Error && (error as { code?: unknown }).code === 'TASK_NOT_STARTED';
}
