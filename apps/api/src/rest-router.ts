import { status as GrpcStatus } from '@grpc/grpc-js';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  ApplyWorkflowResponse, GetLogsResponse, GetRunResponse, GetWorkflowResponse, ListRunsResponse, ListTaskRunsResponse,
  ListWorkflowsResponse, TriggerRunResponse, ValidateWorkflowResponse, BackfillRunsResponse, CancelRunResponse, RetryRunResponse, PauseWorkflowResponse, ResumeWorkflowResponse,
} from '@skein/proto';
import { callContextOf, TRACEPARENT_HEADER, TRIGGER_HEADER } from './api-context';
import type { ApiMethods } from './api-methods';
import { DeleteWorkflowResponse, GetTaskRunResponse, ListWorkflowVersionsResponse } from '@skein/proto';
import { followLogsSse } from './log-tail-transport';
import { runListFilterOf } from './rest-run-filter';
import { watchRunSse } from './run-watch-transport';
import { ApiError, invalidArgument } from './errors';
import { quote } from './limits';
import { httpStatusOf, toApiError, toJsonStatus } from './status';
import { openApiDocument } from './openapi';
import { templateRoutes } from './template-rest';
import { poolRoutes } from './pool-rest';
import type { AccessControl } from './access-control';
import { restAccessMiddleware } from './rest-access';
import { tokenRoutes } from './token-rest';
import { workflowUpdateRoutes } from './workflow-update-rest';

/** Largest JSON body accepted; larger is 413. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** How long /healthz waits for the database before answering 503. */
const HEALTH_TIMEOUT_MS = 2000;

/**
 * The REST API under /v1: each route turns the HTTP request into the request message, calls the same
 * method the gRPC server calls, and answers the response message as proto3 JSON. Errors are
 * google.rpc.Status JSON with the HTTP status of their gRPC code.
 */

type Query = Request['query'];

function sendError(res: Response, err: ApiError, httpStatus = httpStatusOf(err.code)): void {
  res.status(httpStatus).json(toJsonStatus(err));
}

/** A query parameter by its proto3 JSON name or its proto field name. */
function queryValue(query: Query, jsonName: string, protoName: string): string | undefined {
  const value = query[jsonName] ?? query[protoName];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidArgument(protoName, 'must be given once');
  return value;
}

function intQuery(query: Query, jsonName: string, protoName: string): number {
  const value = queryValue(query, jsonName, protoName);
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,15}$/.test(value)) throw invalidArgument(protoName, `must be a non-negative integer, got ${quote(value)}`);
  return Number(value);
}

function stringQuery(query: Query, jsonName: string, protoName: string): string {
  return queryValue(query, jsonName, protoName) ?? '';
}

/** The JSON body as an object; absent (no body) is `{}`. */
function bodyObject(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, jsonName: string, protoName: string): string {
  const value = body[jsonName] ?? body[protoName];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidArgument(protoName, 'must be a string');
  return value;
}

/** The `Last-Event-ID` header of a reconnecting SSE client: the sequence of the last line it got. */
function lastEventId(req: Request): number | undefined {
  const value = req.get('Last-Event-ID');
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) throw invalidArgument('Last-Event-ID', `must be a line sequence, got ${quote(value)}`);
  return Number(value);
}

async function databaseReachable(pool: Pool): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS); });
  try {
    return await Promise.race([pool.query('SELECT 1').then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `access`: authenticates, authorises and audits every request (see access-policy.ts) before any route runs. */
export function createRestApp(methods: ApiMethods, deps: { pool: Pool; logger: Logger; access: AccessControl; stallTimeoutMs?: number | undefined }): express.Express {
  const { logger, stallTimeoutMs } = deps;
  const app = express();
  app.disable('x-powered-by');
  // Before the body parser: a request without a valid token is refused before its body is read.
  app.use(restAccessMiddleware(deps.access, logger));
  // Any content type is read as JSON, so `curl -d '{...}'` works without a Content-Type header.
  app.use(express.json({ limit: MAX_BODY_BYTES, type: () => true }));

  /** Runs one method and answers its response as JSON, or its error as a Status. */
  const route = (method: string, handle: (req: Request) => Promise<unknown>) => async (req: Request, res: Response) => {
    try {
      res.json(await handle(req));
    } catch (err) {
      sendError(res, toApiError(err, logger, method));
    }
  };
  const param = (req: Request, name: string): string => String(req.params[name] ?? '');

  app.get('/healthz', async (_req, res) => {
    if (await databaseReachable(deps.pool)) res.json({ status: 'ok' });
    else res.status(503).json({ status: 'unavailable', reason: 'database unreachable' });
  });

  app.get('/v1/openapi.json', route('GetOpenApiDocument', () => {
    const document = openApiDocument();
    if (!document) return Promise.reject(new ApiError(GrpcStatus.UNAVAILABLE, 'OPENAPI_UNAVAILABLE', 'the OpenAPI document is built from proto/, which this installation lacks'));
    return Promise.resolve(document);
  }));
  app.use(templateRoutes(methods, route));
  app.use(poolRoutes(methods, route));
  app.use(tokenRoutes(methods, route));
  app.use(workflowUpdateRoutes(methods, route));
  app.post('/v1/workflows\\:apply', route('ApplyWorkflow', async (req) => {
    const body = bodyObject(req);
    const response = await methods.applyWorkflow({ source: stringField(body, 'source', 'source'), fileName: stringField(body, 'fileName', 'file_name') });
    return ApplyWorkflowResponse.toJSON(response);
  }));
  app.post('/v1/workflows\\:validate', route('ValidateWorkflow', async (req) => {
    const body = bodyObject(req);
    const response = await methods.validateWorkflow({ source: stringField(body, 'source', 'source'), fileName: stringField(body, 'fileName', 'file_name') });
    return ValidateWorkflowResponse.toJSON(response);
  }));
  app.get('/v1/workflows', route('ListWorkflows', async (req) => ListWorkflowsResponse.toJSON(await methods.listWorkflows({
    pageSize: intQuery(req.query, 'pageSize', 'page_size'), pageToken: stringQuery(req.query, 'pageToken', 'page_token'),
    filter: stringQuery(req.query, 'filter', 'filter'),
  }))));
  app.post('/v1/workflows/:w\\:pause', route('PauseWorkflow', async (req) =>
    PauseWorkflowResponse.toJSON(await methods.pauseWorkflow({ name: `workflows/${param(req, 'w')}` }))));
  app.post('/v1/workflows/:w\\:resume', route('ResumeWorkflow', async (req) =>
    ResumeWorkflowResponse.toJSON(await methods.resumeWorkflow({ name: `workflows/${param(req, 'w')}` }))));
  app.get('/v1/workflows/:w/versions', route('ListWorkflowVersions', async (req) => ListWorkflowVersionsResponse.toJSON(await methods.listWorkflowVersions({
    parent: `workflows/${param(req, 'w')}`,
    pageSize: intQuery(req.query, 'pageSize', 'page_size'), pageToken: stringQuery(req.query, 'pageToken', 'page_token'),
  }))));
  app.delete('/v1/workflows/:w', route('DeleteWorkflow', async (req) =>
    DeleteWorkflowResponse.toJSON(await methods.deleteWorkflow({ name: `workflows/${param(req, 'w')}` }))));
  app.get('/v1/workflows/:w', route('GetWorkflow', async (req) =>
    GetWorkflowResponse.toJSON(await methods.getWorkflow({ name: `workflows/${param(req, 'w')}` }))));

  app.post('/v1/workflows/:w/runs', route('TriggerRun', async (req) => {
    const params = bodyObject(req)['params'];
    if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
      throw invalidArgument('params', 'must be a JSON object of param names to values');
    }
    const requestId = stringField(bodyObject(req), 'requestId', 'request_id');
    const response = await methods.triggerRun(
      { parent: `workflows/${param(req, 'w')}`, params: params as Record<string, unknown> | undefined, requestId },
      callContextOf(req.get(TRIGGER_HEADER), req.get(TRACEPARENT_HEADER)));
    return TriggerRunResponse.toJSON(response);
  }));
  app.get('/v1/workflows/:w/runs', route('ListRuns', async (req) => ListRunsResponse.toJSON(await methods.listRuns({
    parent: `workflows/${param(req, 'w')}`, ...runListFilterOf(req.query),
    pageSize: intQuery(req.query, 'pageSize', 'page_size'), pageToken: stringQuery(req.query, 'pageToken', 'page_token'),
  }))));
  app.post('/v1/workflows/:w/runs\\:backfill', route('BackfillRuns', async (req) => {
    const body = bodyObject(req);
    const time = (field: string) => {
      const value = body[field];
      if (value === undefined) return undefined;
      const parsed = typeof value === 'string' ? new Date(value) : undefined;
      if (!parsed || Number.isNaN(parsed.getTime())) throw invalidArgument(field, 'must be an RFC 3339 timestamp');
      return parsed;
    };
    const params = body['params'];
    if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
      throw invalidArgument('params', 'must be a JSON object of param names to values');
    }
    const maxActive = body['maxActive'] ?? 0;
    if (typeof maxActive !== 'number' || !Number.isInteger(maxActive)) throw invalidArgument('max_active', 'must be an integer');
    return BackfillRunsResponse.toJSON(await methods.backfillRuns({
      parent: `workflows/${param(req, 'w')}`, startTime: time('startTime'), endTime: time('endTime'),
      rerunSucceeded: body['rerunSucceeded'] === true, params: params as Record<string, unknown> | undefined, maxActive,
    }));
  }));
  app.post('/v1/workflows/:w/runs/:r\\:retry', route('RetryRun', async (req) => {
    const task = bodyObject(req)['task'];
    if (task !== undefined && typeof task !== 'string') throw invalidArgument('task', 'must be a task name');
    return RetryRunResponse.toJSON(await methods.retryRun({ name: `workflows/${param(req, 'w')}/runs/${param(req, 'r')}`, task: task ?? '' }));
  }));
  app.post('/v1/workflows/:w/runs/:r\\:cancel', route('CancelRun', async (req) => {
    const reason = bodyObject(req)['reason'];
    if (reason !== undefined && typeof reason !== 'string') throw invalidArgument('reason', 'must be a string');
    return CancelRunResponse.toJSON(await methods.cancelRun({ name: `workflows/${param(req, 'w')}/runs/${param(req, 'r')}`, reason: reason ?? '' }));
  }));
  // Registered before GetRun so `{run}:watch` is not read as a run id.
  app.get('/v1/workflows/:w/runs/:r\\:watch', watchRunSse(methods, logger, {
    stallTimeoutMs,
    request: (req) => ({ name: `workflows/${param(req, 'w')}/runs/${param(req, 'r')}` }),
  }));
  app.get('/v1/workflows/:w/runs/:r', route('GetRun', async (req) =>
    GetRunResponse.toJSON(await methods.getRun({ name: `workflows/${param(req, 'w')}/runs/${param(req, 'r')}` }))));
  app.get('/v1/workflows/:w/runs/:r/tasks', route('ListTaskRuns', async (req) => ListTaskRunsResponse.toJSON(await methods.listTaskRuns({
    parent: `workflows/${param(req, 'w')}/runs/${param(req, 'r')}`,
    pageSize: intQuery(req.query, 'pageSize', 'page_size'), pageToken: stringQuery(req.query, 'pageToken', 'page_token'),
  }))));
  app.get('/v1/workflows/:w/runs/:r/tasks/:t', route('GetTaskRun', async (req) => GetTaskRunResponse.toJSON(await methods.getTaskRun({
    name: `workflows/${param(req, 'w')}/runs/${param(req, 'r')}/tasks/${param(req, 't')}`,
  }))));
  // Registered before `.../logs` so `logs:follow` is not read as a `logs` route.
  const followLogs = followLogsSse(methods, logger, {
    stallTimeoutMs,
    request: (req) => ({
      parent: `workflows/${param(req, 'w')}/runs/${param(req, 'r')}/tasks/${param(req, 't')}`,
      attempt: intQuery(req.query, 'attempt', 'attempt'),
      afterSequence: lastEventId(req) ?? intQuery(req.query, 'afterSequence', 'after_sequence'),
    }),
  });
  app.get('/v1/workflows/:w/runs/:r/tasks/:t/logs\\:follow', followLogs);
  // `?follow=true` is the same stream, for clients that cannot put a colon in a path.
  app.get('/v1/workflows/:w/runs/:r/tasks/:t/logs', (req, res, next) => {
    if (req.query['follow'] === 'true') void followLogs(req, res);
    else next();
  });
  app.get('/v1/workflows/:w/runs/:r/tasks/:t/logs', route('GetLogs', async (req) => GetLogsResponse.toJSON(await methods.getLogs({
    parent: `workflows/${param(req, 'w')}/runs/${param(req, 'r')}/tasks/${param(req, 't')}`,
    attempt: intQuery(req.query, 'attempt', 'attempt'),
    afterSequence: intQuery(req.query, 'afterSequence', 'after_sequence'),
    pageSize: intQuery(req.query, 'pageSize', 'page_size'), pageToken: stringQuery(req.query, 'pageToken', 'page_token'),
  }))));

  app.use((req: Request, res: Response) => {
    sendError(res, new ApiError(GrpcStatus.NOT_FOUND, 'ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`));
  });
  // Errors from the body parser (and anything else thrown outside a route): never a stack trace.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const type = (err as { type?: unknown }).type;
    if (type === 'entity.too.large') {
      sendError(res, new ApiError(GrpcStatus.INVALID_ARGUMENT, 'REQUEST_TOO_LARGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`), 413);
    } else if (type === 'entity.parse.failed') {
      sendError(res, new ApiError(GrpcStatus.INVALID_ARGUMENT, 'MALFORMED_JSON', 'the request body is not valid JSON'), 400);
    } else if (typeof (err as { status?: unknown }).status === 'number' && (err as { status: number }).status < 500) {
      sendError(res, new ApiError(GrpcStatus.INVALID_ARGUMENT, 'BAD_REQUEST', (err as Error).message), (err as { status: number }).status);
    } else {
      sendError(res, toApiError(err, logger, 'http'));
    }
  });
  return app;
}
