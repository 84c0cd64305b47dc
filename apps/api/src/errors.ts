import { status as GrpcStatus } from '@grpc/grpc-js';
import { formatIssue, type ValidationIssue } from '@skein/domain';

/** A field of the request that was wrong and why: becomes one `google.rpc.BadRequest.FieldViolation`. */
export interface FieldViolation {
  /** Path of the field in the request, e.g. `parent`, `params.season`, `spec.tasks[1].dependsOn[0]`. */
  readonly field: string;
  readonly description: string;
}

/** The `google.rpc.ErrorInfo` domain of every error Skein's API returns. */
export const ERROR_DOMAIN = 'skein.dev';

/**
 * An error the API reports to its caller as it is: a gRPC status code, a message that says what was
 * wrong, and an `ErrorInfo` reason (UPPER_SNAKE, stable: clients branch on it). Anything else thrown
 * inside a method is an internal error and is never shown to the caller (see status.ts).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** The gRPC status code. */
    readonly code: GrpcStatus,
    /** The `ErrorInfo.reason`, e.g. `WORKFLOW_NOT_FOUND`. */
    readonly reason: string,
    message: string,
    readonly details: {
      readonly metadata?: Readonly<Record<string, string>>;
      readonly fieldViolations?: readonly FieldViolation[];
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.details.metadata ?? {};
  }

  get fieldViolations(): readonly FieldViolation[] {
    return this.details.fieldViolations ?? [];
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

/** INVALID_ARGUMENT about one request field (reason `INVALID_ARGUMENT`). */
export function invalidArgument(field: string, description: string): ApiError {
  return new ApiError(GrpcStatus.INVALID_ARGUMENT, 'INVALID_ARGUMENT', `${field}: ${description}`, {
    metadata: { field },
    fieldViolations: [{ field, description }],
  });
}

/** NOT_FOUND for a resource, with reason `<KIND>_NOT_FOUND` and the resource name in the metadata. */
export function notFound(kind: 'workflow' | 'run' | 'task' | 'attempt', resourceName: string, message?: string): ApiError {
  return new ApiError(GrpcStatus.NOT_FOUND, `${kind.toUpperCase()}_NOT_FOUND`, message ?? `${kind} ${resourceName} not found`, {
    metadata: { resource: resourceName },
  });
}

/**
 * INVALID_ARGUMENT for a file's issues (a workflow, template or pool file): the message lists them all,
 * one `file:line:col: path: message` per line, and each becomes a BadRequest field violation — at the
 * issue's path, under `field` when the file came in a field other than `source` (UpdateWorkflow's spec).
 */
export function fileInvalid(issues: readonly ValidationIssue[], reason: string, field = 'source'): ApiError {
  const formatted = issues.map(formatIssue);
  const fieldOf = (path: string) => (field === 'source' ? path || field : path ? `${field}.${path}` : field);
  return new ApiError(GrpcStatus.INVALID_ARGUMENT, reason, formatted.join('\n'), {
    metadata: { file: issues[0]?.file ?? '', issueCount: String(issues.length) },
    fieldViolations: issues.map((issue, i) => ({ field: fieldOf(issue.path), description: formatted[i] ?? issue.message })),
  });
}
