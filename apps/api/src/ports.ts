import type { ParamValue } from '@skein/domain';
import type { LogLineRecord } from '@skein/store';

/**
 * What the api service needs from the other services. In `skein standalone` these are the services'
 * objects called in-process; distributed, they are gRPC clients of the internal services
 * (proto/skein/internal/v1/internal_service.proto).
 */

export interface CreateRunCommand {
  readonly workflowId: string;
  /** Already validated and defaulted against the workflow's current version. */
  readonly params: Record<string, ParamValue>;
  /** `manual` (CLI), `api`, ... */
  readonly trigger: string;
  /** @default now */
  readonly logicalDate?: Date;
  /** W3C traceparent of the API call, so the run's trace links to the caller's. */
  readonly traceparent?: string;
}

/** The scheduler's commands. */
export interface RunCommands {
  /** Creates a run of the workflow's current version and dispatches its root tasks. */
  createRun(command: CreateRunCommand): Promise<{ runId: string }>;
  /**
   * Cancels a run: its running attempts are stopped and every task not yet ended is CANCELLED.
   * `cancelled` is false when the run had already ended.
   */
  cancelRun(runId: string, reason: string): Promise<{ cancelled: boolean }>;
  /**
   * Creates backfill runs for these logical dates (already validated against the workflow's schedule).
   * Dates with a queued, running or (unless `rerunSucceeded`) succeeded run are skipped.
   */
  backfill(workflowId: string, logicalDates: readonly Date[], params: Record<string, ParamValue>,
    rerunSucceeded: boolean, maxActive?: number): Promise<{ runIds: string[]; skipped: Date[] }>;
  /**
   * Runs tasks of an ended run again: `task` and its downstream, or every failed, upstream-failed and
   * cancelled task and their downstream. Rejects with gRPC FAILED_PRECONDITION (code 9) when the run has
   * not ended. Returns the tasks cleared.
   */
  retryRun(runId: string, task?: string): Promise<{ tasks: string[] }>;
}

export interface LogPage {
  readonly lines: LogLineRecord[];
  /** The executor reported the attempt's final line count and every line is stored. */
  readonly complete: boolean;
}

/** One step of a live tail: consecutive lines following the previous step's, or the end. */
export interface LogTailChunk {
  readonly lines: LogLineRecord[];
  /** On the last chunk: `complete` is false when the tail ended with lines flagged missing. */
  readonly end?: { readonly complete: boolean };
}

/** The log store's reads (served by the log-collector). */
export interface LogReader {
  readLogs(attemptId: string, afterSequence: number, limit: number): Promise<LogPage>;
  /**
   * Optional: an attempt's lines after `afterSequence`, then its lines as they are stored, until its
   * log is complete; ends early when `signal` aborts. Throws a SlowReaderError (or, over gRPC, a
   * RESOURCE_EXHAUSTED ServiceError) when the consumer falls too far behind. Without it, TailLogs is
   * UNIMPLEMENTED.
   */
  tailLogs?(attemptId: string, afterSequence: number, options?: { signal?: AbortSignal }): AsyncIterable<LogTailChunk>;
}
