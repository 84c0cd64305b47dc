import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { findServerBinary, waitForPort } from './server-process';

/** A nats-server with JetStream, started for a test on a free port. */
export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL); keeps the store unless `stop` is final. */
  stop(): Promise<void>;
  /** Restarts the server on the same port and store (for "NATS restarted mid-run" tests). */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing is answered, like a stalled host. */
  freeze(): void;
  /** Lets a frozen server go on (SIGCONT). */
  thaw(): void;
}

/** Finds nats-server on PATH or in the usual system directories, or explains how to install it. */
export function natsServerBinary(): string {
  return findServerBinary('nats-server', 'Debian: `apt-get install nats-server`');
}


export interface StartNatsServerOptions {
  /** @default a fresh temporary directory, removed on stop */
  storeDir?: string;
  port?: number;
}

export async function startNatsServer(options: StartNatsServerOptions = {}): Promise<NatsServer> {
  const binary = natsServerBinary();
  const temporary = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(path.join(os.tmpdir(), 'skein-nats-'));
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async () => {
    output = '';
    child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    try {
      await waitForPort(port, 10_000, 'nats-server');
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${output}`);
    }
  };
  const halt = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGCONT'); // a frozen server could not act on SIGTERM
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
      c.once('exit', () => { clearTimeout(timer); resolve(); });
      c.kill('SIGTERM');
    });
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await halt();
      if (temporary) rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await launch();
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
  };
}
