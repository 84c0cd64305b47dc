import type { LogLineRecord } from '@skein/store';

/**
 * What the api service needs from the other services. In `skein standalone` these are the services'
 * objects called in-process; distributed, they are gRPC clients of the internal services
 * (proto/skein/internal/v1/internal_service.proto).
 */

export interface CreateRunCommand {
  readonly workflowId: string;
  /** Already validated and defaulted against the workflow's current version. */
  readonly params: Record<string, string | number | boolean>;
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
}

export interface LogPage {
  readonly lines: LogLineRecord[];
  /** The executor reported the attempt's final line count and every line is stored. */
  readonly complete: boolean;
}

/** The log store's reads (served by the log-collector). */
export interface LogReader {
  readLogs(attemptId: string, afterSequence: number, limit: number): Promise<LogPage>;
}
