import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { connect as connectNats } from '@nats-io/transport-node';
import path from 'node:path';
import { freePort } from './free-port';
import { startNatsServer } from './nats-server';
import { RestClient } from './rest-client';
import { createTestDatabase } from './test-database';

/** Skein as four OS processes on a real PostgreSQL and a real nats-server, for benchmarks and tests. */
export interface ServiceStack {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly httpUrl: string;
  readonly grpcAddress: string;
  /** An admin API token of the stack (its api registers it at start, as `SKEIN_ADMIN_TOKEN`). */
  readonly adminToken: string;
  /** A REST client of the stack's api, sending the admin token. */
  readonly api: RestClient;
  readonly processes: ReadonlyMap<ServiceName, ChildProcess>;
  /** Kills one service with a signal and waits for it to exit. */
  kill(name: ServiceName, signal: NodeJS.Signals): Promise<void>;
  /** Sends a signal without waiting for an exit (SIGSTOP, SIGCONT). */
  signal(name: ServiceName, signal: NodeJS.Signals): void;
  /** Starts a service again (after kill), with the same environment. */
  restart(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

/** `scheduler-2` is a second scheduler replica (see `schedulers`). */
export type ServiceName = 'scheduler' | 'scheduler-2' | 'log-collector' | 'executor' | 'api';

export interface StartStackOptions {
  /** The PostgreSQL server: a URL of any database on it. A fresh database is created there and dropped on stop. */
  readonly serverUrl: string;
  readonly executorEnv?: Record<string, string>;
  /** Extra environment of every scheduler replica. */
  readonly schedulerEnv?: Record<string, string>;
  /** Scheduler replicas: 1, or 2 (`scheduler-2`, same database and NATS). @default 1 */
  readonly schedulers?: 1 | 2;
  readonly logLevel?: string;
  /** Where `dist/apps` is. @default the repository of this file */
  readonly repoRoot: string;
  readonly onOutput?: (service: ServiceName, line: string) => void;
  /** Extra node flags per service (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow). */
  readonly nodeArgs?: Partial<Record<ServiceName, readonly string[]>>;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startServiceStack(options: StartStackOptions): Promise<ServiceStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const database = await createTestDatabase('skein_stack', options.serverUrl);
  cleanups.push(() => database.drop());
  const databaseUrl = database.url;
  const nats = await startNatsServer();
  cleanups.push(() => nats.stop());
  const [grpcPort, httpPort, schedulerPort, collectorPort, scheduler2Port] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  // Fresh secrets per stack: the internal token every service shares, and an admin API token.
  const internalToken = randomBytes(32).toString('hex');
  const adminToken = `skn_${randomBytes(32).toString('hex')}`;
  const common = { DATABASE_URL: databaseUrl, NATS_URL: nats.url, LOG_LEVEL: options.logLevel ?? 'warn', SKEIN_INTERNAL_TOKEN: internalToken };
  const envs: Record<ServiceName, Record<string, string>> = {
    scheduler: { ...common, ...options.schedulerEnv, SCHEDULER_GRPC_PORT: String(schedulerPort) },
    'scheduler-2': { ...common, ...options.schedulerEnv, SCHEDULER_GRPC_PORT: String(scheduler2Port) },
    'log-collector': { ...common, LOG_COLLECTOR_GRPC_PORT: String(collectorPort) },
    // The executor asks the collector where an adopted attempt's log ends and whether a log is stored whole.
    executor: {
      NATS_URL: nats.url, LOG_LEVEL: common.LOG_LEVEL, EXECUTOR_LOG_COLLECTOR_ADDRESS: `127.0.0.1:${collectorPort}`, SKEIN_INTERNAL_TOKEN: internalToken,
      ...options.executorEnv,
    },
    api: {
      ...common, GRPC_PORT: String(grpcPort), HTTP_PORT: String(httpPort), SKEIN_ADMIN_TOKEN: adminToken,
      SCHEDULER_ADDRESS: `127.0.0.1:${schedulerPort}`, LOG_COLLECTOR_ADDRESS: `127.0.0.1:${collectorPort}`,
    },
  };
  const processes = new Map<ServiceName, ChildProcess>();
  const launch = (name: ServiceName) => {
    const app = name === 'scheduler-2' ? 'scheduler' : name;
    const child = spawn(process.execPath, [...(options.nodeArgs?.[name] ?? []), path.join(options.repoRoot, 'dist', 'apps', app, 'main.js')], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...envs[name] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line) options.onOutput?.(name, line);
      });
    }
    processes.set(name, child);
  };
  const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
  const signal = (name: ServiceName, sig: NodeJS.Signals) => {
    const child = processes.get(name);
    if (child && !exited(child)) child.kill(sig);
  };
  const kill = async (name: ServiceName, signal: NodeJS.Signals) => {
    const child = processes.get(name);
    if (!child || exited(child)) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  };
  try {
    // The scheduler migrates the schema first, so the others find it in place.
    launch('scheduler');
    if (options.schedulers === 2) launch('scheduler-2');
    launch('log-collector');
    launch('executor');
    launch('api');
    await waitForHttp(`http://127.0.0.1:${httpPort}/healthz`, 30_000);
  } catch (err) {
    for (const child of processes.values()) child.kill('SIGKILL');
    for (const cleanup of cleanups.reverse()) await cleanup();
    throw err;
  }
  return {
    databaseUrl,
    natsUrl: nats.url,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    adminToken,
    api: new RestClient(`http://127.0.0.1:${httpPort}`, adminToken),
    grpcAddress: `127.0.0.1:${grpcPort}`,
    processes,
    kill,
    signal,
    restart: async (name) => {
      await kill(name, 'SIGKILL');
      // Ready means: the api answers /healthz, a scheduler or the collector accepts connections on its
      // internal port, and the executor has sent its first heartbeat (it beats as it starts consuming).
      if (name === 'executor') {
        // (Plain NATS here: libs/bus's own tests use this library.)
        const connection = await connectNats({ servers: nats.url, name: 'stack-restart' });
        try {
          const sub = connection.subscribe('skein.heartbeat.>', { max: 1 });
          await connection.flush();
          launch(name);
          const beat = (async () => { for await (const _ of sub) return; })();
          await Promise.race([beat, new Promise((_, reject) => setTimeout(() => reject(new Error('the restarted executor sent no heartbeat within 30 s')), 30_000).unref())]);
        } finally {
          await connection.close();
        }
        return;
      }
      launch(name);
      if (name === 'api') await waitForHttp(`http://127.0.0.1:${httpPort}/healthz`, 30_000);
      else await waitForTcp(name === 'scheduler' ? schedulerPort : name === 'scheduler-2' ? scheduler2Port : collectorPort, 30_000);
    },
    stop: async () => {
      await Promise.all([...processes.keys()].map((name) => kill(name, 'SIGTERM')));
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
