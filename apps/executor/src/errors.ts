/** An executor method was called in a state that does not allow it (e.g. `start()` twice). */
export class ExecutorStateError extends Error {
  override readonly name = 'ExecutorStateError';
  readonly code = 'EXECUTOR_STATE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Executor options that cannot work (no runtimes, an unknown default runtime, capacity < 1, ...). */
export class ExecutorOptionsError extends Error {
  override readonly name = 'ExecutorOptionsError';
  readonly code = 'EXECUTOR_OPTIONS_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
