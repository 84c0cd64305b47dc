import { Metadata, status as GrpcStatus, type ServerErrorResponse } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { BadRequest, ErrorInfo, Status, type Any } from '@skein/proto';
import { isNotFound } from '@skein/store';
import { ApiError, ERROR_DOMAIN, isApiError, type FieldViolation } from './errors';

/**
 * The one place where errors become what callers see: a gRPC status with `grpc-status-details-bin`
 * (an encoded google.rpc.Status holding exactly one ErrorInfo, plus a BadRequest for validation
 * errors), or the same Status as proto3 JSON for REST.
 */

/** The trailer key of the rich error model (https://google.aip.dev/193). */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

// Node errors and PostgreSQL SQLSTATEs that mean "the database is not reachable right now": the
// caller may retry, so they are UNAVAILABLE rather than INTERNAL.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE',
  '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006',
]);

function isDatabaseUnavailable(err: unknown): boolean {
  // Duck-typed: errors raised by Node's own sockets are not always `instanceof` this realm's Error.
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  // pg reports a dropped connection or a pool that cannot connect in time with plain messages.
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect/.test(message);
}

/** A failed call of an internal gRPC service (the scheduler, the log-collector) that did not answer. */
function isInternalServiceUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('metadata' in err) || !('details' in err)) return false;
  const { code } = err as { code?: unknown };
  return code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.DEADLINE_EXCEEDED;
}

/**
 * Turns anything thrown by a method into an ApiError. Unknown errors are logged with their stack
 * and become a generic INTERNAL: their messages may hold SQL, paths or secrets.
 */
export function toApiError(err: unknown, logger: Logger, method: string): ApiError {
  if (isApiError(err)) return err;
  // The scheduler found the workflow gone between our read and its own (a concurrent delete).
  if (isNotFound(err)) {
    return new ApiError(GrpcStatus.NOT_FOUND, `${err.resource.toUpperCase()}_NOT_FOUND`, err.message, { metadata: { resource: err.id } });
  }
  if (isInternalServiceUnavailable(err)) {
    logger.warn({ err, method }, 'internal service unavailable');
    return new ApiError(GrpcStatus.UNAVAILABLE, 'BACKEND_UNAVAILABLE', 'a Skein service this call needs is unavailable; try again shortly');
  }
  if (isDatabaseUnavailable(err)) {
    logger.warn({ err, method }, 'database unavailable');
    return new ApiError(GrpcStatus.UNAVAILABLE, 'DATABASE_UNAVAILABLE', 'the database is unavailable; try again shortly');
  }
  logger.error({ err, method }, 'internal error');
  return new ApiError(GrpcStatus.INTERNAL, 'INTERNAL', 'internal error');
}

/** The google.rpc.Status of an ApiError. */
export function toRpcStatus(err: ApiError): Status {
  const details: Any[] = [{
    typeUrl: ERROR_INFO_TYPE,
    value: Buffer.from(ErrorInfo.encode({ reason: err.reason, domain: ERROR_DOMAIN, metadata: { ...err.metadata } }).finish()),
  }];
  if (err.fieldViolations.length > 0) {
    details.push({ typeUrl: BAD_REQUEST_TYPE, value: Buffer.from(BadRequest.encode({ fieldViolations: toProtoViolations(err.fieldViolations) }).finish()) });
  }
  return { code: err.code, message: err.message, details };
}

function toProtoViolations(violations: readonly FieldViolation[]): BadRequest['fieldViolations'] {
  return violations.map((v) => ({ field: v.field, description: v.description, reason: '', localizedMessage: undefined }));
}

// The message travels twice in trailers (grpc-message and inside grpc-status-details-bin), with the
// violations; C-core clients (Python, Ruby, PHP, ...) refuse metadata over 8 KiB by default, and a
// trailer block over the peer's limit breaks the whole connection. These bounds keep an error near 6 KiB.
/** Longest grpc-message, in characters. */
export const MAX_GRPC_MESSAGE_CHARS = 800;
/** Most characters of field violations (fields and descriptions) a gRPC error carries. */
export const MAX_GRPC_VIOLATION_CHARS = 2000;

/** The error cut to what fits in trailers: a long message is truncated, the violations that do not fit left out (and counted). */
function boundedForTrailers(err: ApiError): ApiError {
  let budget = MAX_GRPC_VIOLATION_CHARS;
  const kept: FieldViolation[] = [];
  for (const v of err.fieldViolations) {
    const field = v.field.slice(0, 200);
    const description = v.description.slice(0, 400);
    if (field.length + description.length > budget) break;
    budget -= field.length + description.length;
    kept.push({ field, description });
  }
  const dropped = err.fieldViolations.length - kept.length;
  const cut = err.message.length > MAX_GRPC_MESSAGE_CHARS;
  const shortened = kept.some((v, i) => v.field !== err.fieldViolations[i]?.field || v.description !== err.fieldViolations[i]?.description);
  if (!cut && dropped === 0 && !shortened) return err;
  let message = cut ? `${err.message.slice(0, MAX_GRPC_MESSAGE_CHARS)}… (${err.message.length - MAX_GRPC_MESSAGE_CHARS} more characters)` : err.message;
  if (dropped > 0) message += ` (${dropped} more field violations not shown)`;
  return new ApiError(err.code, err.reason, message, { metadata: err.metadata, fieldViolations: kept, cause: err });
}

/** The error to hand to a grpc-js callback. */
export function toGrpcError(error: ApiError): ServerErrorResponse {
  const err = boundedForTrailers(error);
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(Status.encode(toRpcStatus(err)).finish()));
  return Object.assign(new Error(err.message), { code: err.code, details: err.message, metadata });
}

const HTTP_STATUS: Partial<Record<GrpcStatus, number>> = {
  [GrpcStatus.CANCELLED]: 499,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.UNAUTHENTICATED]: 401,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.FAILED_PRECONDITION]: 400,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.UNAVAILABLE]: 503,
};

/** The HTTP status of a gRPC code (the google.rpc.Code mapping). */
export function httpStatusOf(code: GrpcStatus): number {
  return HTTP_STATUS[code] ?? 500;
}

/** The REST error body: google.rpc.Status in proto3 JSON, details with `@type`. */
export function toJsonStatus(err: ApiError): { code: number; message: string; details: Record<string, unknown>[] } {
  const details: Record<string, unknown>[] = [
    { '@type': ERROR_INFO_TYPE, reason: err.reason, domain: ERROR_DOMAIN, metadata: { ...err.metadata } },
  ];
  if (err.fieldViolations.length > 0) {
    details.push({ '@type': BAD_REQUEST_TYPE, fieldViolations: err.fieldViolations.map((v) => ({ field: v.field, description: v.description })) });
  }
  return { code: err.code, message: err.message, details };
}

/** What a client can decode from a failed call's trailers. */
export interface ErrorDetails {
  readonly errorInfo?: ErrorInfo;
  readonly fieldViolations: readonly FieldViolation[];
}

/** Decodes `grpc-status-details-bin` from a failed call's metadata (the inverse of {@link toGrpcError}). */
export function decodeErrorDetails(metadata: Metadata | undefined): ErrorDetails {
  const raw = metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!(raw instanceof Buffer)) return { fieldViolations: [] };
  let status: Status;
  try {
    status = Status.decode(raw);
  } catch {
    return { fieldViolations: [] };
  }
  let errorInfo: ErrorInfo | undefined;
  const fieldViolations: FieldViolation[] = [];
  for (const detail of status.details) {
    if (detail.typeUrl === ERROR_INFO_TYPE) errorInfo = ErrorInfo.decode(detail.value);
    if (detail.typeUrl === BAD_REQUEST_TYPE) {
      for (const v of BadRequest.decode(detail.value).fieldViolations) fieldViolations.push({ field: v.field, description: v.description });
    }
  }
  return { errorInfo, fieldViolations };
}
