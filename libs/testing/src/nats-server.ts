import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

/** A nats-server with JetStream, started for a test on a free port. */
export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL); keeps the store unless `stop` is final. */
  stop(): Promise<void>;
  /** Restarts the server on the same port and store (for "NATS restarted mid-run" tests). */
  restart(): Promise<void>;
}

/** Finds nats-server on PATH or in /usr/sbin, or explains how to install it. */
export function natsServerBinary(): string {
  const candidates = [...(process.env['PATH'] ?? '').split(path.delimiter).map((d) => path.join(d, 'nats-server')), '/usr/sbin/nats-server', '/usr/local/bin/nats-server'];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error('nats-server not found on PATH or in /usr/sbin: install it (Debian: `apt-get install nats-server`)');
  return found;
}

function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`nats-server did not listen on ${port} in ${deadlineMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
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
      await waitForPort(port, 10_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${output}`);
    }
  };
  const halt = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
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
  };
}
