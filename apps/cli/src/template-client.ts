/**
 * The TemplateService and PoolService as the CLI calls them (apply templates and pools, render a task's
 * Job): same server, a deadline on every call, errors as CliError. Kept apart from skein-client.ts,
 * which covers the workflow, run and log services.
 */
import { Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { decodeErrorDetails } from '@skein/api';
import {
  PoolServiceClient, type ApplyPoolRequest, type ApplyPoolResponse, type DeletePoolRequest, type GetPoolRequest, type GetPoolResponse,
  type ListPoolsRequest, type ListPoolsResponse,
  TemplateServiceClient, type ApplyTemplateRequest, type ApplyTemplateResponse, type RenderTaskRequest, type RenderTaskResponse,
} from '@skein/proto';
import { CliError } from './cli-io';
import { channelCredentials, clientOptions, type ApiConnection } from './connection';
import { callError } from './skein-client';

/** The TemplateService calls the CLI makes. */
export interface TemplateClient {
  applyTemplate(request: ApplyTemplateRequest): Promise<ApplyTemplateResponse>;
  renderTask(request: RenderTaskRequest): Promise<RenderTaskResponse>;
  close(): void;
}

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => unknown;

/** The PoolService calls the CLI makes. */
export interface PoolClient {
  applyPool(request: ApplyPoolRequest): Promise<ApplyPoolResponse>;
  getPool(request: GetPoolRequest): Promise<GetPoolResponse>;
  listPools(request: ListPoolsRequest): Promise<ListPoolsResponse>;
  deletePool(request: DeletePoolRequest): Promise<void>;
  close(): void;
}

/** A PoolService client of the API at `connection`; a pool file's issues are reported like a workflow file's. */
export function createPoolClient(connection: ApiConnection, deadlineMs = 10_000): PoolClient {
  const client = new PoolServiceClient(connection.server, channelCredentials(connection), clientOptions(connection));
  const call = caller(connection.server, deadlineMs, 'POOL_INVALID', 'the pool file');
  return {
    applyPool: (r) => call(client.applyPool.bind(client), r),
    getPool: (r) => call(client.getPool.bind(client), r),
    listPools: (r) => call(client.listPools.bind(client), r),
    deletePool: async (r) => { await call(client.deletePool.bind(client), r); },
    close: () => client.close(),
  };
}

/** A client of the API at `connection`; `deadlineMs` per call. @default deadlineMs 10000 */
export function createTemplateClient(connection: ApiConnection, deadlineMs = 10_000): TemplateClient {
  const client = new TemplateServiceClient(connection.server, channelCredentials(connection), clientOptions(connection));
  const call = caller(connection.server, deadlineMs, 'TEMPLATE_INVALID', 'the template file');
  return {
    applyTemplate: (r) => call(client.applyTemplate.bind(client), r),
    renderTask: (r) => call(client.renderTask.bind(client), r),
    close: () => client.close(),
  };
}

/** Calls a unary method with a deadline; an invalid file (`invalidReason`) becomes a CliError listing its issues. */
function caller(server: string, deadlineMs: number, invalidReason: string, what: string) {
  return function call<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method(request, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (!err) return resolve(res);
        const details = decodeErrorDetails(err.metadata);
        // A template file's issues are `file:line:col: path: message` already, like a workflow file's.
        if (details.errorInfo?.reason === invalidReason) {
          const file = details.errorInfo.metadata['file'] || what;
          return reject(new CliError(`${file} is invalid`, details.fieldViolations.map((v) => v.description), { cause: err, reason: 'WORKFLOW_INVALID' }));
        }
        reject(callError(err, server, deadlineMs));
      });
    });
  };
}
