import { Metadata, status, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { decodeErrorDetails, TRIGGER_HEADER } from '@skein/api';
import {
  LogServiceClient, RunServiceClient, WorkflowServiceClient,
  type ApplyWorkflowRequest, type ApplyWorkflowResponse, type GetLogsRequest, type GetLogsResponse, type GetRunRequest,
  type GetRunResponse, type GetWorkflowRequest, type GetWorkflowResponse, type ListRunsRequest, type ListRunsResponse,
  type ListTaskRunsRequest, type ListTaskRunsResponse, type ListWorkflowsRequest, type ListWorkflowsResponse,
  type TriggerRunRequest, type TriggerRunResponse, BackfillRunsRequest, BackfillRunsResponse, RetryRunRequest, RetryRunResponse, CancelRunRequest, CancelRunResponse, PauseWorkflowRequest, PauseWorkflowResponse, ResumeWorkflowRequest, ResumeWorkflowResponse
} from '@skein/proto';
import type { TailLogsRequest, TailLogsResponse } from '@skein/proto';
import type {
  DeleteWorkflowRequest, DeleteWorkflowResponse, GetTaskRunRequest, GetTaskRunResponse, ListWorkflowVersionsRequest, ListWorkflowVersionsResponse,
  WatchRunRequest, WatchRunResponse,
} from '@skein/proto';
import {
  AuditServiceClient, TokenServiceClient,
  type CreateTokenRequest, type CreateTokenResponse, type ListAuditEventsRequest, type ListAuditEventsResponse, type ListTokensRequest,
  type ListTokensResponse, type RevokeTokenRequest, type RevokeTokenResponse,
} from '@skein/proto';
import { CliError } from './cli-io';
import { channelCredentials, clientOptions, type ApiConnection } from './connection';

/** The public API, as the CLI calls it: promises, a deadline on every call, errors as CliError. */
export interface SkeinClient {
  readonly server: string;
  /** How this client connects (for other clients of the same API). */
  readonly connection: ApiConnection;
  applyWorkflow(request: ApplyWorkflowRequest): Promise<ApplyWorkflowResponse>;
  getWorkflow(request: GetWorkflowRequest): Promise<GetWorkflowResponse>;
  listWorkflows(request: ListWorkflowsRequest): Promise<ListWorkflowsResponse>;
  pauseWorkflow(request: PauseWorkflowRequest): Promise<PauseWorkflowResponse>;
  resumeWorkflow(request: ResumeWorkflowRequest): Promise<ResumeWorkflowResponse>;
  triggerRun(request: TriggerRunRequest): Promise<TriggerRunResponse>;
  getRun(request: GetRunRequest): Promise<GetRunResponse>;
  listRuns(request: ListRunsRequest): Promise<ListRunsResponse>;
  listTaskRuns(request: ListTaskRunsRequest): Promise<ListTaskRunsResponse>;
  cancelRun(request: CancelRunRequest): Promise<CancelRunResponse>;
  backfillRuns(request: BackfillRunsRequest): Promise<BackfillRunsResponse>;
  retryRun(request: RetryRunRequest): Promise<RetryRunResponse>;
  getLogs(request: GetLogsRequest): Promise<GetLogsResponse>;
  /** TailLogs: no deadline (it lasts as long as the task); ends when `signal` aborts. Errors are CliErrors. */
  tailLogs(request: TailLogsRequest, options?: { signal?: AbortSignal }): AsyncIterable<TailLogsResponse>;
  listWorkflowVersions(request: ListWorkflowVersionsRequest): Promise<ListWorkflowVersionsResponse>;
  deleteWorkflow(request: DeleteWorkflowRequest): Promise<DeleteWorkflowResponse>;
  getTaskRun(request: GetTaskRunRequest): Promise<GetTaskRunResponse>;
  /** WatchRun: no deadline (it lasts as long as the run); ends when `signal` aborts. Errors are CliErrors. */
  watchRun(request: WatchRunRequest, options?: { signal?: AbortSignal }): AsyncIterable<WatchRunResponse>;
  createToken(request: CreateTokenRequest): Promise<CreateTokenResponse>;
  listTokens(request: ListTokensRequest): Promise<ListTokensResponse>;
  revokeToken(request: RevokeTokenRequest): Promise<RevokeTokenResponse>;
  listAuditEvents(request: ListAuditEventsRequest): Promise<ListAuditEventsResponse>;
  close(): void;
}

export interface SkeinClientOptions extends ApiConnection {
  /** Deadline of each call. @default 10000 */
  readonly deadlineMs?: number;
}

/** Extra lines for a failed call: field violations, or the issues of an invalid workflow file. */
function violationLines(reason: string | undefined, violations: readonly { field: string; description: string }[]): string[] {
  // Workflow issues are already `file:line:col: path: message`, the form editors jump to.
  if (reason === 'WORKFLOW_INVALID') return violations.map((v) => v.description);
  return violations.map((v) => `  ${v.field}: ${v.description}`);
}

/** What the user sees for a failed call. */
export function callError(err: ServiceError, server: string, deadlineMs: number): CliError {
  const details = decodeErrorDetails(err.metadata);
  const reason = details.errorInfo?.reason;
  // No ErrorInfo: the failure came from the transport, not from Skein.
  if (!details.errorInfo && err.code === status.UNAVAILABLE) {
    return new CliError(`cannot reach Skein at ${server} (is \`skein standalone\` running?)`, [], { cause: err });
  }
  if (err.code === status.UNAUTHENTICATED && reason === 'TOKEN_MISSING') {
    return new CliError(`Skein at ${server} needs an API token: pass --token or set SKEIN_TOKEN (a local \`skein standalone\` writes one to .skein/admin-token)`, [], { cause: err, reason });
  }
  if (!details.errorInfo && err.code === status.DEADLINE_EXCEEDED) {
    return new CliError(`Skein at ${server} did not answer within ${deadlineMs / 1000}s`, [], { cause: err });
  }
  if (reason === 'WORKFLOW_INVALID') {
    const file = details.errorInfo?.metadata['file'] ?? 'the workflow file';
    return new CliError(`${file} is invalid`, violationLines(reason, details.fieldViolations), { cause: err, reason });
  }
  if (reason === 'PARAMS_INVALID') {
    // The message repeats every violation; one line per param reads better.
    const workflow = details.errorInfo?.metadata['workflow'] ?? 'the workflow';
    return new CliError(`invalid params for ${workflow}`, violationLines(reason, details.fieldViolations), { cause: err, reason });
  }
  const message = err.details || status[err.code] || 'call failed';
  const [only, ...others] = details.fieldViolations;
  // An INVALID_ARGUMENT about one field already says `field: description` in its message.
  const redundant = only !== undefined && others.length === 0 && message === `${only.field}: ${only.description}`;
  return new CliError(message, redundant ? [] : violationLines(reason, details.fieldViolations), { cause: err, reason });
}

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => unknown;

export function createSkeinClient(options: SkeinClientOptions): SkeinClient {
  const deadlineMs = options.deadlineMs ?? 10_000;
  const creds = channelCredentials(options);
  const auth = clientOptions(options);
  const workflows = new WorkflowServiceClient(options.server, creds, auth);
  // The services share one channel (one connection).
  const channelOverride = workflows.getChannel();
  const runs = new RunServiceClient(options.server, creds, { ...auth, channelOverride });
  const logs = new LogServiceClient(options.server, creds, { ...auth, channelOverride });
  const tokens = new TokenServiceClient(options.server, creds, { ...auth, channelOverride });
  const audit = new AuditServiceClient(options.server, creds, { ...auth, channelOverride });

  function call<Req, Res>(method: Unary<Req, Res>, request: Req, metadata = new Metadata()): Promise<Res> {
    return new Promise((resolve, reject) => {
      method(request, metadata, { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (err) reject(callError(err, options.server, deadlineMs));
        else resolve(res);
      });
    });
  }

  return {
    server: options.server,
    connection: { server: options.server, token: options.token, tls: options.tls },
    applyWorkflow: (r) => call(workflows.applyWorkflow.bind(workflows), r),
    getWorkflow: (r) => call(workflows.getWorkflow.bind(workflows), r),
    listWorkflows: (r) => call(workflows.listWorkflows.bind(workflows), r),
    pauseWorkflow: (r) => call(workflows.pauseWorkflow.bind(workflows), r),
    resumeWorkflow: (r) => call(workflows.resumeWorkflow.bind(workflows), r),
    triggerRun: (r) => {
      // A run started from the CLI was asked for by a person.
      const metadata = new Metadata();
      metadata.set(TRIGGER_HEADER, 'manual');
      return call(runs.triggerRun.bind(runs), r, metadata);
    },
    getRun: (r) => call(runs.getRun.bind(runs), r),
    listRuns: (r) => call(runs.listRuns.bind(runs), r),
    listTaskRuns: (r) => call(runs.listTaskRuns.bind(runs), r),
    cancelRun: (r) => call(runs.cancelRun.bind(runs), r),
    backfillRuns: (r) => call(runs.backfillRuns.bind(runs), r),
    retryRun: (r) => call(runs.retryRun.bind(runs), r),
    getLogs: (r) => call(logs.getLogs.bind(logs), r),
    listWorkflowVersions: (r) => call(workflows.listWorkflowVersions.bind(workflows), r),
    deleteWorkflow: (r) => call(workflows.deleteWorkflow.bind(workflows), r),
    getTaskRun: (r) => call(runs.getTaskRun.bind(runs), r),
    async *watchRun(request, watchOptions = {}) {
      const stream = runs.watchRun(request);
      const cancel = () => stream.cancel();
      watchOptions.signal?.addEventListener('abort', cancel);
      try {
        for await (const response of stream as AsyncIterable<WatchRunResponse>) yield response;
      } catch (err) {
        if (watchOptions.signal?.aborted) return;
        throw callError(err as ServiceError, options.server, deadlineMs);
      } finally {
        watchOptions.signal?.removeEventListener('abort', cancel);
        stream.cancel();
      }
    },
    async *tailLogs(request, tailOptions = {}) {
      const stream = logs.tailLogs(request);
      const cancel = () => stream.cancel();
      tailOptions.signal?.addEventListener('abort', cancel);
      try {
        for await (const response of stream as AsyncIterable<TailLogsResponse>) yield response;
      } catch (err) {
        if (tailOptions.signal?.aborted) return;
        throw callError(err as ServiceError, options.server, deadlineMs);
      } finally {
        tailOptions.signal?.removeEventListener('abort', cancel);
        stream.cancel();
      }
    },
    createToken: (r) => call(tokens.createToken.bind(tokens), r),
    listTokens: (r) => call(tokens.listTokens.bind(tokens), r),
    revokeToken: (r) => call(tokens.revokeToken.bind(tokens), r),
    listAuditEvents: (r) => call(audit.listAuditEvents.bind(audit), r),
    close() {
      tokens.close();
      audit.close();
      runs.close();
      logs.close();
      workflows.close();
    },
  };
}
