/**
 * Stable codes of {@link BusError}. Callers branch on these (or on the predicates below), never on
 * messages.
 */
export type BusErrorCode =
  /** The bus (or the subscription) was closed; the operation cannot run. */
  | 'BUS_CLOSED'
  /** The subject is not captured by any of the {@link STREAMS}. */
  | 'NO_STREAM'
  /** The stream did not confirm the publish before the publish deadline. */
  | 'PUBLISH_TIMEOUT'
  /** The stream refused the publish for a reason a retry cannot fix. */
  | 'PUBLISH_REJECTED'
  /** The server (or the in-process bus) did not confirm an ack. The message will be redelivered. */
  | 'ACK_FAILED'
  /** The durable consumer cannot be created or updated as asked (e.g. overlapping work-queue filters). */
  | 'CONSUMER_CONFLICT'
  /** An existing stream's configuration cannot be reconciled without deleting its data. */
  | 'STREAM_CONFLICT'
  /** Could not connect to the message broker. */
  | 'CONNECTION_FAILED'
  /** The broker failed a management request (JetStream unavailable, timed out, refused). */
  | 'BROKER_ERROR'
  /** The caller passed options that cannot work (bad subject, maxInFlight < 1, ...). */
  | 'INVALID_ARGUMENT';

/** The one error type `@skein/bus` throws. */
export class BusError extends Error {
  override readonly name = 'BusError';

  constructor(
    readonly code: BusErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for any {@link BusError}. */
export function isBusError(err: unknown): err is BusError {
  return err instanceof BusError;
}

function hasCode(err: unknown, code: BusErrorCode): err is BusError {
  return err instanceof BusError && err.code === code;
}

/** The bus or subscription was closed. Usually benign during shutdown. */
export function isBusClosed(err: unknown): err is BusError {
  return hasCode(err, 'BUS_CLOSED');
}

/** The publish was not confirmed in time; it may or may not be stored (re-publish with the same `msgId`). */
export function isPublishTimeout(err: unknown): err is BusError {
  return hasCode(err, 'PUBLISH_TIMEOUT');
}

/** The subject belongs to no stream. A programming error. */
export function isNoStream(err: unknown): err is BusError {
  return hasCode(err, 'NO_STREAM');
}

/** An ack was not confirmed; the message will come back, so the handler must be idempotent. */
export function isAckFailed(err: unknown): err is BusError {
  return hasCode(err, 'ACK_FAILED');
}

/** A durable consumer could not be created or updated as asked. */
export function isConsumerConflict(err: unknown): err is BusError {
  return hasCode(err, 'CONSUMER_CONFLICT');
}

/** An existing stream has a configuration that cannot be reconciled in place. */
export function isStreamConflict(err: unknown): err is BusError {
  return hasCode(err, 'STREAM_CONFLICT');
}
