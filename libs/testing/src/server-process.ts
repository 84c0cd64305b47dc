import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Finds a server program on PATH or in the usual system directories, or says how to install it. */
export function findServerBinary(name: string, installHint: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  const found = dirs.filter(Boolean).map((d) => path.join(d, name)).find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`${name} not found on PATH or in /usr/sbin, /usr/bin: install it (${installHint})`);
  return found;
}

/** Resolves once something listens on 127.0.0.1:`port`; rejects after `deadlineMs`. */
export function waitForPort(port: number, deadlineMs: number, what: string): Promise<void> {
  const until = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`${what} did not listen on ${port} in ${deadlineMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}
