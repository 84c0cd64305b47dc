/**
 * The TemplateService as the CLI calls it (apply templates, render a task's Job): same server, a
 * deadline on every call, errors as CliError. Kept apart from skein-client.ts, which covers the
 * workflow, run and log services.
 */
import { Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { decodeErrorDetails } from '@skein/api';
import {
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

/** A client of the API at `connection`; `deadlineMs` per call. @default deadlineMs 10000 */
export function createTemplateClient(connection: ApiConnection, deadlineMs = 10_000): TemplateClient {
  const server = connection.server;
  const client = new TemplateServiceClient(server, channelCredentials(connection), clientOptions(connection));
  function call<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method(request, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (!err) return resolve(res);
        const details = decodeErrorDetails(err.metadata);
        // A template file's issues are `file:line:col: path: message` already, like a workflow file's.
        if (details.errorInfo?.reason === 'TEMPLATE_INVALID') {
          const file = details.errorInfo.metadata['file'] ?? 'the template file';
          return reject(new CliError(`${file} is invalid`, details.fieldViolations.map((v) => v.description), { cause: err, reason: 'WORKFLOW_INVALID' }));
        }
        reject(callError(err, server, deadlineMs));
      });
    });
  }
  return {
    applyTemplate: (r) => call(client.applyTemplate.bind(client), r),
    renderTask: (r) => call(client.renderTask.bind(client), r),
    close: () => client.close(),
  };
}
