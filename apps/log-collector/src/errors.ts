/** Base class of the log-collector's errors: each has a stable `code`. */
export class LogCollectorError extends Error {
  override readonly name: string = 'LogCollectorError';
  readonly code: string = 'LOG_COLLECTOR_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A tail's reader fell so far behind the lines being stored that the tail would have to buffer
 * without bound: the tail is ended instead (gRPC RESOURCE_EXHAUSTED). The reader may resume with
 * `after_sequence` = the last line it received.
 */
export class SlowReaderError extends LogCollectorError {
  override readonly name = 'SlowReaderError';
  override readonly code = 'LOG_TAIL_SLOW_READER';
  constructor(readonly lastSequence: number, readonly limit: string) {
    super(`the log tail reader fell behind (${limit}); resume with after_sequence=${lastSequence}`);
  }
}

export function isSlowReader(err: unknown): err is SlowReaderError {
  return err instanceof SlowReaderError;
}
