import {
  credentials, Metadata, type CallOptions, type ServiceError,
} from '@grpc/grpc-js';
import type { Pool } from 'pg';
import pino from 'pino';
import { bearerTokenInterceptor } from '@skein/config';
import { LogServiceClient, RunServiceClient, WorkflowServiceClient } from '@skein/proto';
import { createPool, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { createApiService, type ApiService } from './api-service';
import { createApiToken } from './token-secrets';
import type { RunCommands } from './ports';
import { createTestScheduler, type TestScheduler, type TestSchedulerOptions } from './test-scheduler';

/** An api service on free ports over a fresh migrated database, with gRPC clients: for this app's tests. */
export interface TestApi {
  readonly db: TestDatabase;
  readonly pool: Pool;
  readonly scheduler: TestScheduler;
  readonly service: ApiService;
  readonly grpcAddress: string;
  readonly baseUrl: string;
  readonly workflows: WorkflowServiceClient;
  readonly runs: RunServiceClient;
  readonly logs: LogServiceClient;
  /** The secret of an admin token, which the clients above and {@link TestApi.fetch} send. */
  readonly adminToken: string;
  /** Client options that send the admin token (for more clients of this api). */
  readonly clientOptions: { interceptors: ReturnType<typeof bearerTokenInterceptor>[] };
  /** fetch() of a path on the REST api, with the admin token unless `init.headers` has an authorization. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Fails the next createRun with this error (to see what callers get from an internal error). */
  failNextCreateRun(err: Error): void;
  close(): Promise<void>;
}

export async function startTestApi(options: TestSchedulerOptions = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const pool = createPool(db.url, { max: 4 });
  // pool.end() resolves before its clients' sockets close, and the database is then dropped WITH (FORCE):
  // a client terminated in that window emits 'error' on the pool, which must not crash the test.
  pool.on('error', () => undefined);
  await migrate(pool);
  const scheduler = createTestScheduler(pool, options);
  let nextFailure: Error | undefined;
  const runs: RunCommands = {
    cancelRun: (runId, reason) => scheduler.runs.cancelRun(runId, reason),
    backfill: (...args) => scheduler.runs.backfill(...args),
    retryRun: (runId, task) => scheduler.runs.retryRun(runId, task),
    createRun(command) {
      const failure = nextFailure;
      nextFailure = undefined;
      return failure ? Promise.reject(failure) : scheduler.runs.createRun(command);
    },
  };
  const service = createApiService({ pool, runs, logs: scheduler.logs, logger: pino({ level: 'silent' }), grpcPort: 0, httpPort: 0 });
  const { grpcPort, httpPort } = await service.start();
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const { secret: adminToken } = await createApiToken(pool, 'test-admin', 'admin');
  const clientOptions = { interceptors: [bearerTokenInterceptor(adminToken)] };
  const creds = credentials.createInsecure();
  const workflows = new WorkflowServiceClient(grpcAddress, creds, clientOptions);
  const runClient = new RunServiceClient(grpcAddress, creds, clientOptions);
  const logs = new LogServiceClient(grpcAddress, creds, clientOptions);
  return {
    db, pool, scheduler, service, grpcAddress, baseUrl, workflows, runs: runClient, logs, adminToken, clientOptions,
    fetch: (path, init = {}) => fetch(`${baseUrl}${path}`, { ...init, headers: withAuthorization(init.headers, adminToken) }),
    failNextCreateRun(err) { nextFailure = err; },
    async close() {
      for (const client of [workflows, runClient, logs]) client.close();
      await scheduler.drain();
      await service.stop();
      await pool.end();
      await db.drop();
    },
  };
}

/** Headers with `authorization: Bearer <token>` added, unless they already have one. */
export function withAuthorization(headers: RequestInit['headers'], token: string): Headers {
  const result = new Headers(headers);
  if (!result.has('authorization')) result.set('authorization', `Bearer ${token}`);
  return result;
}

type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (err: ServiceError | null, res: Res) => void) => unknown;

/** Calls a unary method with a 10 s deadline. */
export function call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata = new Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** The ServiceError of a call expected to fail. */
export async function callError<Req, Res>(method: UnaryMethod<Req, Res>, request: Req): Promise<ServiceError> {
  try {
    await call(method, request);
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('the call succeeded');
}

/** A valid workflow file. */
export function workflowYaml(name: string, options: { command?: string; params?: string } = {}): string {
  return [
    'apiVersion: skein.dev/v1',
    'kind: Workflow',
    'metadata:',
    `  name: ${name}`,
    '  labels: {team: data}',
    'spec:',
    ...(options.params ? ['  params:', options.params] : []),
    '  tasks:',
    '    - name: extract',
    `      command: ["${options.command ?? 'echo'}", "extract"]`,
    '    - name: transform',
    '      dependsOn: [extract]',
    '      command: ["echo", "transform"]',
    '    - name: load',
    '      dependsOn: [transform]',
    '      command: ["echo", "load"]',
    '',
  ].join('\n');
}
