import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerCredentials } from '@grpc/grpc-js';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createApiContext } from './api-context';
import { createApiMethods } from './api-methods';
import { createGrpcServer, type ApiGrpcServer } from './grpc-server';
import type { LogReader, RunCommands } from './ports';
import { answerClientError } from './http-client-error';
import { createRestApp } from './rest-router';
import { createRunWatchHub } from './run-watch-hub';

export interface ApiServiceOptions {
  /** Definitions are written here; runs, task runs and attempts are read from here. */
  readonly pool: Pool;
  /** The scheduler's commands (in-process in standalone, gRPC otherwise). */
  readonly runs: RunCommands;
  /** The log store's reads. */
  readonly logs: LogReader;
  readonly logger: Logger;
  /** Interface both servers listen on. @default "127.0.0.1" */
  readonly host?: string;
  /** gRPC port; 0 picks a free one. @default 7070 */
  readonly grpcPort?: number;
  /** REST port; 0 picks a free one. @default 8080 */
  readonly httpPort?: number;
  /** Serve gRPC server reflection (needs the repository's proto/ directory). @default true */
  readonly reflection?: boolean;
  /** How long stop() lets in-flight calls finish before cutting them off. @default 5000 */
  readonly shutdownTimeoutMs?: number;
  /** How often open WatchRun streams check their runs for changes (one query for all). @default 100 */
  readonly watchPollIntervalMs?: number;
}

/** The ports the service actually listens on (useful when 0 was asked for). */
export interface ApiServiceAddress {
  readonly grpcPort: number;
  readonly httpPort: number;
}

export interface ApiService {
  /** Binds both servers and marks the gRPC services SERVING. */
  start(): Promise<ApiServiceAddress>;
  /** Marks NOT_SERVING, stops accepting calls, lets in-flight ones finish (up to the timeout). Idempotent. */
  stop(): Promise<void>;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** The public API: gRPC (skein.v1 + health + reflection) and REST under /v1, over one set of methods. */
export function createApiService(options: ApiServiceOptions): ApiService {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger.child({ service: 'api' });
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5000;
  const watchHub = createRunWatchHub({ pool: options.pool, logger, pollIntervalMs: options.watchPollIntervalMs });
  const methods = createApiMethods(createApiContext({ pool: options.pool, runs: options.runs, logs: options.logs, logger }), { watchHub });
  let state: State = 'new';
  let grpc: ApiGrpcServer | undefined;
  let http: HttpServer | undefined;
  let stopping: Promise<void> | undefined;

  async function bindGrpc(server: ApiGrpcServer, port: number): Promise<number> {
    // Bracket an IPv6 literal, as grpc-js expects a host:port target.
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      server.server.bindAsync(target, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  async function listenHttp(server: HttpServer, port: number): Promise<number> {
    server.listen(port, host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
    return (server.address() as AddressInfo).port;
  }

  async function shutdownGrpc(server: ApiGrpcServer): Promise<void> {
    server.setServing('NOT_SERVING');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { server.server.forceShutdown(); resolve(); }, shutdownTimeoutMs);
      server.server.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
  }

  async function shutdownHttp(server: HttpServer): Promise<void> {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), shutdownTimeoutMs);
    await closed;
    clearTimeout(timer);
  }

  return {
    async start() {
      if (state !== 'new') throw new Error(`the api service cannot start: it is ${state}`);
      state = 'starting';
      try {
        grpc = createGrpcServer(methods, logger, { reflection: options.reflection ?? true });
        const grpcPort = await bindGrpc(grpc, options.grpcPort ?? 7070);
        http = createServer(createRestApp(methods, { pool: options.pool, logger }));
        http.on('clientError', answerClientError);
        const httpPort = await listenHttp(http, options.httpPort ?? 8080);
        grpc.setServing('SERVING');
        state = 'running';
        logger.info({ host, grpcPort, httpPort }, 'api listening');
        return { grpcPort, httpPort };
      } catch (err) {
        // Release whatever did bind, so a failed start leaves no port or handle behind.
        await Promise.all([grpc && shutdownGrpc(grpc), http && shutdownHttp(http)]);
        state = 'stopped';
        throw err;
      }
    },

    stop() {
      if (stopping) return stopping;
      if (state === 'new') {
        state = 'stopped';
        return Promise.resolve();
      }
      state = 'stopping';
      stopping = (async () => {
        // Open WatchRun streams end (UNAVAILABLE) instead of holding the shutdown until its timeout.
        watchHub.close();
        await Promise.all([grpc && shutdownGrpc(grpc), http && shutdownHttp(http)]);
        state = 'stopped';
        logger.info('api stopped');
      })();
      return stopping;
    },
  };
}
