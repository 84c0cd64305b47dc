/**
 * Publish → handler latency and throughput of both bus implementations (a measurement, not a test).
 *
 *   npx tsx libs/bus/bench/publish-latency.ts [messages=5000] [nats-url]
 *
 * Without a URL it starts its own nats-server (JetStream, file storage in a temporary directory)
 * on a free port. (It does not use @skein/testing: a type:data project may not depend on it.)
 *
 * Latency: one message at a time, timed from just before `publish()` to the first line of the
 * handler (the PubAck is awaited too, before the next message, as the outbox relay does).
 * Throughput: `messages` published with up to 256 publishes outstanding, acked by the handler.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Bus, BusMessage } from '../src/bus';
import { createInProcessBus } from '../src/in-process-bus';
import { createNatsBus } from '../src/nats-bus';

const messages = Number(process.argv[2] ?? 5000);
const natsUrl = process.argv[3];
const out = (line: string) => process.stdout.write(`${line}\n`);

async function measure(name: string, bus: Bus): Promise<void> {
  await bus.ensureStreams();
  const latency = await measureLatency(bus, messages);
  const throughput = await measureThroughput(bus, messages);
  const q = (p: number) => latency[Math.min(latency.length - 1, Math.floor(p * latency.length))]?.toFixed(1);
  out(`${name}: publish→handler p50 ${q(0.5)} µs, p90 ${q(0.9)} µs, p99 ${q(0.99)} µs, max ${latency.at(-1)?.toFixed(1)} µs (n=${latency.length}); ` +
    `throughput ${Math.round(throughput)} msg/s (publish + handler + ack)`);
}

async function measureLatency(bus: Bus, count: number): Promise<number[]> {
  let started = 0n;
  let arrived: ((at: bigint) => void) | undefined;
  const subscription = await bus.consume({ stream: 'dispatch', durable: 'bench-latency', filterSubject: 'skein.dispatch.bench-latency' }, async (m: BusMessage) => {
    arrived?.(process.hrtime.bigint());
    await m.ack();
  });
  const samples: number[] = [];
  const warmup = Math.min(500, count);
  for (let i = 0; i < warmup + count; i++) {
    const handled = new Promise<bigint>((resolve) => (arrived = resolve));
    started = process.hrtime.bigint();
    await bus.publish('skein.dispatch.bench-latency', new Uint8Array(64), { msgId: `latency-${process.pid}-${i}` });
    const at = await handled;
    if (i >= warmup) samples.push(Number(at - started) / 1000);
  }
  await subscription.drain();
  return samples.sort((a, b) => a - b);
}

async function measureThroughput(bus: Bus, count: number): Promise<number> {
  let handled = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const subscription = await bus.consume({ stream: 'dispatch', durable: 'bench-throughput', filterSubject: 'skein.dispatch.bench-throughput' }, async (m) => {
    await m.ack();
    if (++handled === count) done();
  });
  const start = process.hrtime.bigint();
  const window = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    const p: Promise<void> = bus.publish('skein.dispatch.bench-throughput', new Uint8Array(64), { msgId: `tp-${process.pid}-${i}` }).then(() => {
      window.delete(p);
    });
    window.add(p);
    if (window.size >= 256) await Promise.race(window);
  }
  await all;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await subscription.drain();
  return count / seconds;
}

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const inProcess = createInProcessBus({ logger });
  await measure('in-process', inProcess);
  await inProcess.close();

  const server = natsUrl ? undefined : await startNatsServer();
  try {
    const nats = await createNatsBus({ servers: natsUrl ?? server?.url ?? '', name: 'bench', logger });
    await measure('NATS JetStream', nats);
    await nats.close();
  } finally {
    await server?.stop();
  }
}

async function startNatsServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'skein-bus-bench-'));
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
  for (let connected = false; !connected; ) {
    connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        setTimeout(() => resolve(false), 20);
      });
    });
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      await new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'));
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
