/**
 * Every REST route, as data: what the OpenAPI document (openapi.ts) is built from. openapi.test.ts
 * checks this table against the routes express really has, both ways, so a route added to
 * rest-router.ts without a line here (or the reverse) fails the build.
 */

/** A query parameter that is not a field of the request message (or is read differently from it). */
export interface ExtraQueryParameter {
  readonly name: string;
  readonly description: string;
  readonly schema: Readonly<Record<string, unknown>>;
}

export interface RestRouteDoc {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** The OpenAPI path template: `{workflow}`, `{run}`, `{task}`, `{template}` are path parameters. */
  readonly path: string;
  /** The gRPC method it calls (also the operationId); routes outside skein.v1 have their own. */
  readonly operationId: string;
  readonly summary: string;
  /** The request message (full name); its fields that are not in the path or query make up the body. */
  readonly request?: string;
  /** Request fields read from the query string (proto names); sent as lowerCamelCase or proto names. */
  readonly query?: readonly string[];
  readonly extraQuery?: readonly ExtraQueryParameter[];
  /** Request fields filled from the path, so they are not in the body. */
  readonly fromPath?: readonly string[];
  /** The request message's fields make up the body (POST/PATCH). */
  readonly body?: boolean;
  /** The body is this message instead (UpdateWorkflow's and CreateWorkflow's Workflow). */
  readonly bodyMessage?: string;
  /** The 200 response: a message (full name), `sse` (Server-Sent Events of this message), or an inline schema. */
  readonly response: { readonly message: string } | { readonly sse: string; readonly events: string } | { readonly schema: Readonly<Record<string, unknown>> };
}

const PAGE = ['page_size', 'page_token'];

export const REST_ROUTES: readonly RestRouteDoc[] = [
  {
    method: 'get', path: '/healthz', operationId: 'Healthz', summary: 'Liveness and readiness: 200 while PostgreSQL answers within 2 s, else 503',
    response: { schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'unavailable'] }, reason: { type: 'string' } }, required: ['status'] } },
  },
  {
    method: 'get', path: '/v1/openapi.json', operationId: 'GetOpenApiDocument', summary: 'This document',
    response: { schema: { type: 'object', description: 'An OpenAPI 3.1 document' } },
  },
  // WorkflowService
  { method: 'post', path: '/v1/workflows:apply', operationId: 'ApplyWorkflow', summary: 'Create a workflow, or a new version of it, from a workflow file', request: 'skein.v1.ApplyWorkflowRequest', body: true, response: { message: 'skein.v1.ApplyWorkflowResponse' } },
  { method: 'post', path: '/v1/workflows:validate', operationId: 'ValidateWorkflow', summary: 'Validate a workflow file without storing it', request: 'skein.v1.ValidateWorkflowRequest', body: true, response: { message: 'skein.v1.ValidateWorkflowResponse' } },
  {
    method: 'post', path: '/v1/workflows', operationId: 'CreateWorkflow', summary: 'Create a workflow from its resource (ALREADY_EXISTS, HTTP 409, when it exists)',
    request: 'skein.v1.CreateWorkflowRequest', query: ['workflow_id'], bodyMessage: 'skein.v1.Workflow', response: { message: 'skein.v1.CreateWorkflowResponse' },
  },
  { method: 'get', path: '/v1/workflows', operationId: 'ListWorkflows', summary: 'List workflows by id, optionally filtered', request: 'skein.v1.ListWorkflowsRequest', query: [...PAGE, 'filter'], response: { message: 'skein.v1.ListWorkflowsResponse' } },
  { method: 'get', path: '/v1/workflows/{workflow}', operationId: 'GetWorkflow', summary: 'Get a workflow with its current spec', response: { message: 'skein.v1.GetWorkflowResponse' } },
  {
    method: 'patch', path: '/v1/workflows/{workflow}', operationId: 'UpdateWorkflow', summary: 'Update the fields of a workflow that updateMask names (spec, labels, paused, or *)',
    request: 'skein.v1.UpdateWorkflowRequest', query: ['update_mask', 'allow_missing'], bodyMessage: 'skein.v1.Workflow', response: { message: 'skein.v1.UpdateWorkflowResponse' },
  },
  { method: 'delete', path: '/v1/workflows/{workflow}', operationId: 'DeleteWorkflow', summary: 'Delete a workflow, its versions and its ended runs', response: { message: 'skein.v1.DeleteWorkflowResponse' } },
  { method: 'post', path: '/v1/workflows/{workflow}:pause', operationId: 'PauseWorkflow', summary: 'Stop creating scheduled runs', response: { message: 'skein.v1.PauseWorkflowResponse' } },
  { method: 'post', path: '/v1/workflows/{workflow}:resume', operationId: 'ResumeWorkflow', summary: 'Resume creating scheduled runs', response: { message: 'skein.v1.ResumeWorkflowResponse' } },
  { method: 'get', path: '/v1/workflows/{workflow}/versions', operationId: 'ListWorkflowVersions', summary: 'List a workflow\'s versions, newest first', request: 'skein.v1.ListWorkflowVersionsRequest', query: PAGE, response: { message: 'skein.v1.ListWorkflowVersionsResponse' } },
  // RunService
  {
    method: 'post', path: '/v1/workflows/{workflow}/runs', operationId: 'TriggerRun', summary: 'Start a run of the workflow\'s current version ({workflow} may not be -)',
    request: 'skein.v1.TriggerRunRequest', fromPath: ['parent'], body: true, response: { message: 'skein.v1.TriggerRunResponse' },
  },
  {
    method: 'get', path: '/v1/workflows/{workflow}/runs', operationId: 'ListRuns', summary: 'List runs, newest first ({workflow} may be - for every workflow)',
    request: 'skein.v1.ListRunsRequest', query: [...PAGE, 'state', 'create_time_after', 'create_time_before'], response: { message: 'skein.v1.ListRunsResponse' },
  },
  {
    method: 'post', path: '/v1/workflows/{workflow}/runs:backfill', operationId: 'BackfillRuns', summary: 'Create a run per data interval of the schedule in [startTime, endTime)',
    request: 'skein.v1.BackfillRunsRequest', fromPath: ['parent'], body: true, response: { message: 'skein.v1.BackfillRunsResponse' },
  },
  { method: 'get', path: '/v1/workflows/{workflow}/runs/{run}', operationId: 'GetRun', summary: 'Get a run', response: { message: 'skein.v1.GetRunResponse' } },
  {
    method: 'get', path: '/v1/workflows/{workflow}/runs/{run}:watch', operationId: 'WatchRun', summary: 'Follow a run until it ends (Server-Sent Events)',
    response: { sse: 'skein.v1.WatchRunResponse', events: 'a `run` event per WatchRunResponse (proto3 JSON), then `end`; an error after the first event is an `error` event holding a google.rpc.Status' },
  },
  { method: 'post', path: '/v1/workflows/{workflow}/runs/{run}:cancel', operationId: 'CancelRun', summary: 'Cancel a run', request: 'skein.v1.CancelRunRequest', fromPath: ['name'], body: true, response: { message: 'skein.v1.CancelRunResponse' } },
  { method: 'post', path: '/v1/workflows/{workflow}/runs/{run}:retry', operationId: 'RetryRun', summary: 'Run tasks of an ended run again', request: 'skein.v1.RetryRunRequest', fromPath: ['name'], body: true, response: { message: 'skein.v1.RetryRunResponse' } },
  { method: 'get', path: '/v1/workflows/{workflow}/runs/{run}/tasks', operationId: 'ListTaskRuns', summary: 'List a run\'s tasks in workflow order', request: 'skein.v1.ListTaskRunsRequest', query: PAGE, response: { message: 'skein.v1.ListTaskRunsResponse' } },
  { method: 'get', path: '/v1/workflows/{workflow}/runs/{run}/tasks/{task}', operationId: 'GetTaskRun', summary: 'Get a task run with every attempt', response: { message: 'skein.v1.GetTaskRunResponse' } },
  // LogService
  {
    method: 'get', path: '/v1/workflows/{workflow}/runs/{run}/tasks/{task}/logs', operationId: 'GetLogs', summary: 'Read a task attempt\'s log lines (with follow=true: the TailLogs stream, as on logs:follow)',
    request: 'skein.v1.GetLogsRequest', query: ['attempt', 'after_sequence', ...PAGE],
    extraQuery: [{ name: 'follow', description: 'true: answer the logs:follow event stream instead', schema: { type: 'boolean' } }],
    response: { message: 'skein.v1.GetLogsResponse' },
  },
  {
    method: 'get', path: '/v1/workflows/{workflow}/runs/{run}/tasks/{task}/logs:follow', operationId: 'TailLogs', summary: 'Follow a task attempt\'s log (Server-Sent Events)',
    request: 'skein.v1.TailLogsRequest', query: ['attempt', 'after_sequence'],
    response: { sse: 'skein.v1.LogEntry', events: 'an `entry` event per line (a LogEntry in proto3 JSON, `id` = its sequence, so Last-Event-ID resumes), then `end` once the attempt\'s log is complete' },
  },
  // TemplateService
  { method: 'post', path: '/v1/templates:apply', operationId: 'ApplyTemplate', summary: 'Store a task template', request: 'skein.v1.ApplyTemplateRequest', body: true, response: { message: 'skein.v1.ApplyTemplateResponse' } },
  { method: 'post', path: '/v1/templates:render', operationId: 'RenderTask', summary: 'The Job the kubernetes runtime would create for one task', request: 'skein.v1.RenderTaskRequest', body: true, response: { message: 'skein.v1.RenderTaskResponse' } },
  { method: 'get', path: '/v1/templates', operationId: 'ListTemplates', summary: 'List task templates', request: 'skein.v1.ListTemplatesRequest', query: PAGE, response: { message: 'skein.v1.ListTemplatesResponse' } },
  { method: 'get', path: '/v1/templates/{template}', operationId: 'GetTemplate', summary: 'Get a task template', response: { message: 'skein.v1.GetTemplateResponse' } },
  { method: 'delete', path: '/v1/templates/{template}', operationId: 'DeleteTemplate', summary: 'Delete a task template and its versions (stored workflows keep their resolved tasks)', response: { message: 'skein.v1.DeleteTemplateResponse' } },
  { method: 'post', path: '/v1/pools:apply', operationId: 'ApplyPool', summary: 'Create a pool or set its slots from a `kind: Pool` document', request: 'skein.v1.ApplyPoolRequest', body: true, response: { message: 'skein.v1.ApplyPoolResponse' } },
  { method: 'get', path: '/v1/pools', operationId: 'ListPools', summary: 'List pools with their slots in use and waiting tasks', request: 'skein.v1.ListPoolsRequest', query: PAGE, response: { message: 'skein.v1.ListPoolsResponse' } },
  { method: 'get', path: '/v1/pools/{pool}', operationId: 'GetPool', summary: 'Get a pool', response: { message: 'skein.v1.GetPoolResponse' } },
  { method: 'delete', path: '/v1/pools/{pool}', operationId: 'DeletePool', summary: 'Delete a pool nothing uses (FAILED_PRECONDITION, HTTP 400, while one does)', response: { message: 'skein.v1.DeletePoolResponse' } },
  { method: 'post', path: '/v1/tokens', operationId: 'CreateToken', summary: 'Create an API token (its secret is returned only here)', request: 'skein.v1.CreateTokenRequest', body: true, response: { message: 'skein.v1.CreateTokenResponse' } },
  { method: 'get', path: '/v1/tokens', operationId: 'ListTokens', summary: 'List API tokens, newest first (never their secrets)', request: 'skein.v1.ListTokensRequest', query: [...PAGE, 'show_revoked'], response: { message: 'skein.v1.ListTokensResponse' } },
  { method: 'post', path: '/v1/tokens/{token}:revoke', operationId: 'RevokeToken', summary: 'Revoke an API token', request: 'skein.v1.RevokeTokenRequest', fromPath: ['name'], body: true, response: { message: 'skein.v1.RevokeTokenResponse' } },
  { method: 'get', path: '/v1/auditEvents', operationId: 'ListAuditEvents', summary: 'The audit log of mutating calls, newest first', request: 'skein.v1.ListAuditEventsRequest', query: PAGE, response: { message: 'skein.v1.ListAuditEventsResponse' } },
];
