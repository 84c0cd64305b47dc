import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server as PlainHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ServerCredentials } from '@grpc/grpc-js';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createApiContext } from './api-context';
import { createApiMethods } from './api-methods';
import { createAccessControl } from './access-control';
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
  /** Serve both gRPC and HTTP over TLS with this certificate (else plaintext). */
  readonly tls?: ApiTlsOptions;
  /** How often open WatchRun streams check their runs for changes (one query for all). @default 100 */
  readonly watchPollIntervalMs?: number;
  /**
   * A TailLogs or WatchRun client (gRPC stream or Server-Sent Events) that takes nothing for this
   * long while a response waits is dropped with RESOURCE_EXHAUSTED instead of buffered. @default 30000
   */
  readonly stallTimeoutMs?: number;
}

/** PEM files of the api's TLS. */
export interface ApiTlsOptions {
  /** The server's certificate (chain). */
  readonly certFile: string;
  readonly keyFile: string;
  /**
   * CA certificate(s) of client certificates: when set, both servers require a client certificate
   * signed by them (mutual TLS) and refuse connections without one. API tokens are still required.
   */
  readonly clientCaFile?: string;
}

type HttpServer = PlainHttpServer | HttpsServer;

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
  const access = createAccessControl({ pool: options.pool, logger });
  const methods = createApiMethods(createApiContext({ pool: options.pool, runs: options.runs, logs: options.logs, logger }), { watchHub });
  let state: State = 'new';
  let grpc: ApiGrpcServer | undefined;
  let http: HttpServer | undefined;
  let stopping: Promise<void> | undefined;

  async function bindGrpc(server: ApiGrpcServer, port: number): Promise<number> {
    // Bracket an IPv6 literal, as grpc-js expects a host:port target.
    const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      server.server.bindAsync(target, grpcCredentials(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  function grpcCredentials(): ServerCredentials {
    const tls = options.tls;
    if (!tls) return ServerCredentials.createInsecure();
    const clientCa = tls.clientCaFile ? readFileSync(tls.clientCaFile) : null;
    return ServerCredentials.createSsl(clientCa, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], clientCa !== null);
  }

  function createHttpServer(app: ReturnType<typeof createRestApp>): HttpServer {
    const tls = options.tls;
    if (!tls) return createServer(app);
    const clientCa = tls.clientCaFile ? readFileSync(tls.clientCaFile) : undefined;
    return createHttpsServer({
      cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile),
      ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    }, app);
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
        grpc = createGrpcServer(methods, logger, { reflection: options.reflection ?? true, access, stallTimeoutMs: options.stallTimeoutMs });
        const grpcPort = await bindGrpc(grpc, options.grpcPort ?? 7070);
        http = createHttpServer(createRestApp(methods, { pool: options.pool, logger, access, stallTimeoutMs: options.stallTimeoutMs }));
        http.on('clientError', answerClientError);
        const httpPort = await listenHttp(http, options.httpPort ?? 8080);
        grpc.setServing('SERVING');
        state = 'running';
        logger.info({ host, grpcPort, httpPort, tls: Boolean(options.tls), mutualTls: Boolean(options.tls?.clientCaFile) }, 'api listening');
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
