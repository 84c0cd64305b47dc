import { Server, type handleUnaryCall, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from 'pino';
import {
  LogServiceService, RunServiceService, WorkflowServiceService,
  type LogServiceServer, type RunServiceServer, type WorkflowServiceServer,
} from '@skein/proto';
import { TemplateServiceService, type TemplateServiceServer } from '@skein/proto';
import { PoolServiceService, type PoolServiceServer } from '@skein/proto';
import { AuditServiceService, TokenServiceService, type AuditServiceServer, type TokenServiceServer } from '@skein/proto';
import { callContextOf, TRACEPARENT_HEADER, TRIGGER_HEADER, type CallContext } from './api-context';
import type { ApiMethods } from './api-methods';
import { tailLogsGrpcHandler } from './log-tail-transport';
import { TolerantServer } from './grpc-decode';
import { GRPC_SERVER_OPTIONS } from './grpc-options';
import { createReflectionService } from './reflection';
import { watchRunGrpcHandler } from './run-watch-transport';
import { toApiError, toGrpcError } from './status';
import type { AccessControl } from './access-control';
import { grpcAccessInterceptor } from './grpc-access';

/** Largest request message accepted, in bytes. */
export { MAX_RECEIVE_MESSAGE_BYTES } from './grpc-options';

/** The fully-qualified names of the services this server implements (and reports healthy). */
export const SERVICE_NAMES = ['skein.v1.WorkflowService', 'skein.v1.RunService', 'skein.v1.LogService', 'skein.v1.TemplateService',
  'skein.v1.PoolService', 'skein.v1.TokenService', 'skein.v1.AuditService'] as const;

/** A grpc-js server with the API's services, health checking and reflection registered (not yet bound). */
export interface ApiGrpcServer {
  readonly server: Server;
  /** Sets "" and every API service to this status. */
  setServing(status: ServingStatus): void;
}

/** Adapts a transport-independent method to a grpc-js unary handler: errors go through status.ts. */
function unary<Req, Res>(method: string, logger: Logger, fn: (request: Req, call: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const context = callContextOf(call.metadata.get(TRIGGER_HEADER)[0], call.metadata.get(TRACEPARENT_HEADER)[0]);
    fn(call.request, context).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toGrpcError(toApiError(err, logger, method))),
    );
  };
}

/** `access`: authenticates, authorises and audits every call (see access-policy.ts) before any method runs. */
export function createGrpcServer(methods: ApiMethods, logger: Logger,
  options: { reflection: boolean; access: AccessControl; stallTimeoutMs?: number | undefined }): ApiGrpcServer {
  const streaming = { stallTimeoutMs: options.stallTimeoutMs };
  // Malformed protobuf is the caller's INVALID_ARGUMENT, not INTERNAL, on every service (grpc-decode.ts).
  const server: Server = new TolerantServer({ ...GRPC_SERVER_OPTIONS, interceptors: [grpcAccessInterceptor(options.access, logger)] });

  const workflows: WorkflowServiceServer = {
    applyWorkflow: unary('ApplyWorkflow', logger, (r) => methods.applyWorkflow(r)),
    validateWorkflow: unary('ValidateWorkflow', logger, (r) => methods.validateWorkflow(r)),
    getWorkflow: unary('GetWorkflow', logger, (r) => methods.getWorkflow(r)),
    listWorkflows: unary('ListWorkflows', logger, (r) => methods.listWorkflows(r)),
    pauseWorkflow: unary('PauseWorkflow', logger, (r) => methods.pauseWorkflow(r)),
    resumeWorkflow: unary('ResumeWorkflow', logger, (r) => methods.resumeWorkflow(r)),
    listWorkflowVersions: unary('ListWorkflowVersions', logger, (r) => methods.listWorkflowVersions(r)),
    deleteWorkflow: unary('DeleteWorkflow', logger, (r) => methods.deleteWorkflow(r)),
    createWorkflow: unary('CreateWorkflow', logger, (r) => methods.createWorkflow(r)),
    updateWorkflow: unary('UpdateWorkflow', logger, (r) => methods.updateWorkflow(r)),
  };
  const runs: RunServiceServer = {
    triggerRun: unary('TriggerRun', logger, (r, call) => methods.triggerRun(r, call)),
    getRun: unary('GetRun', logger, (r) => methods.getRun(r)),
    listRuns: unary('ListRuns', logger, (r) => methods.listRuns(r)),
    listTaskRuns: unary('ListTaskRuns', logger, (r) => methods.listTaskRuns(r)),
    cancelRun: unary('CancelRun', logger, (r) => methods.cancelRun(r)),
    backfillRuns: unary('BackfillRuns', logger, (r) => methods.backfillRuns(r)),
    retryRun: unary('RetryRun', logger, (r) => methods.retryRun(r)),
    getTaskRun: unary('GetTaskRun', logger, (r) => methods.getTaskRun(r)),
    watchRun: watchRunGrpcHandler(methods, logger, streaming),
  };
  const logs: LogServiceServer = {
    getLogs: unary('GetLogs', logger, (r) => methods.getLogs(r)),
    tailLogs: tailLogsGrpcHandler(methods, logger, streaming),
  };
  server.addService(WorkflowServiceService, workflows);
  server.addService(RunServiceService, runs);
  server.addService(LogServiceService, logs);
  const templates: TemplateServiceServer = {
    applyTemplate: unary('ApplyTemplate', logger, (r) => methods.applyTemplate(r)),
    getTemplate: unary('GetTemplate', logger, (r) => methods.getTemplate(r)),
    listTemplates: unary('ListTemplates', logger, (r) => methods.listTemplates(r)),
    renderTask: unary('RenderTask', logger, (r) => methods.renderTask(r)),
    deleteTemplate: unary('DeleteTemplate', logger, (r) => methods.deleteTemplate(r)),
  };
  server.addService(TemplateServiceService, templates);
  const pools: PoolServiceServer = {
    applyPool: unary('ApplyPool', logger, (r) => methods.applyPool(r)),
    getPool: unary('GetPool', logger, (r) => methods.getPool(r)),
    listPools: unary('ListPools', logger, (r) => methods.listPools(r)),
    deletePool: unary('DeletePool', logger, (r) => methods.deletePool(r)),
  };
  server.addService(PoolServiceService, pools);
  const tokens: TokenServiceServer = {
    createToken: unary('CreateToken', logger, (r) => methods.createToken(r)),
    listTokens: unary('ListTokens', logger, (r) => methods.listTokens(r)),
    revokeToken: unary('RevokeToken', logger, (r) => methods.revokeToken(r)),
  };
  server.addService(TokenServiceService, tokens);
  const audit: AuditServiceServer = { listAuditEvents: unary('ListAuditEvents', logger, (r) => methods.listAuditEvents(r)) };
  server.addService(AuditServiceService, audit);

  const health = new HealthImplementation();
  health.addToServer(server);
  const setServing = (status: ServingStatus) => {
    for (const name of ['', ...SERVICE_NAMES]) health.setStatus(name, status);
  };
  setServing('NOT_SERVING');

  if (options.reflection) {
    const reflection = createReflectionService();
    if (reflection) reflection.addToServer(server);
    else logger.warn('proto/ not found: gRPC server reflection is disabled');
  }
  return { server, setServing };
}
