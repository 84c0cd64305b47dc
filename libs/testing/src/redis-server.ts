import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { findServerBinary, waitForPort } from './server-process';

/** A redis-server started for a benchmark or test on a free port, with an append-only file. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The server's process id (for memory measurements). */
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes a temporary data directory. */
  stop(): Promise<void>;
}

export interface StartRedisServerOptions {
  /** @default a fresh temporary directory, removed on stop */
  dataDir?: string;
  /** @default a free port */
  port?: number;
  /** The AOF fsync policy. @default 'everysec' (Redis's recommended durability/speed trade-off) */
  appendfsync?: 'always' | 'everysec' | 'no';
}

/** Finds redis-server on PATH or in the usual system directories, or explains how to install it. */
export function redisServerBinary(): string {
  return findServerBinary('redis-server', 'Debian: `apt-get install redis-server`');
}


/** Starts redis-server with AOF persistence (`appendonly yes`) and no RDB snapshots, bound to 127.0.0.1. */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'skein-redis-'));
  const port = options.port ?? (await freePort());
  const args = [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--save', '',
    '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec', '--daemonize', 'no',
  ];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  const cleanup = () => { if (temporary) rmSync(dataDir, { recursive: true, force: true }); };
  try {
    await waitForPort(port, 10_000, 'redis-server');
  } catch (err) {
    child.kill('SIGKILL');
    cleanup();
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => { clearTimeout(timer); resolve(); });
          child.kill('SIGTERM');
        });
      }
      cleanup();
    },
  };
}
