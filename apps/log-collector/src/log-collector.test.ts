import { createServer, connect, type Server, type Socket } from 'node:net';
import pino from 'pino';
import type { Pool } from 'pg';
import { createNatsBus, subjects, type Bus } from '@skein/bus';
import { LogBatch, LogLineStream } from '@skein/proto';
import { createPool, migrate, readLogLines, getLogStatus } from '@skein/store';
import { createTestDatabase, startNatsServer, type NatsServer, type TestDatabase } from '@skein/testing';
import { isSlowReader } from './errors';
import { LogCollector } from './log-collector';
import type { LogTailChunk } from './log-tail';

const silent = pino({ enabled: false });

function batch(attemptId: string, from: number, to: number, finalCount?: number): Uint8Array {
  const lines = [];
  for (let s = from; s <= to; s++) lines.push({ sequence: s, stream: LogLineStream.LOG_LINE_STREAM_STDOUT, time: new Date(), text: `line ${s}` });
  return LogBatch.encode({ attemptId, runId: 'run', workflow: 'w', task: 't', attempt: 1, lines, finalCount }).finish();
}

async function publish(bus: Bus, attemptId: string, from: number, to: number, finalCount?: number): Promise<void> {
  await bus.publish(subjects.logs(attemptId), batch(attemptId, from, to, finalCount), { msgId: `${attemptId}:${from}:${to}:${finalCount ?? ''}` });
}

/** Resolves when the attempt's log is complete in the store (or has `stored` lines). */
async function waitComplete(pool: Pool, attemptId: string, timeoutMs = 30_000, stored?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const done = (s: { complete: boolean; storedCount: number }) => (stored === undefined ? s.complete : s.storedCount >= stored);
  while (!done(await getLogStatus(pool, attemptId))) {
    if (Date.now() > deadline) throw new Error(`log of ${attemptId} not complete after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function collect(tail: AsyncIterable<LogTailChunk>): Promise<{ sequences: number[]; complete: boolean | undefined }> {
  const sequences: number[] = [];
  let complete: boolean | undefined;
  for await (const chunk of tail) {
    sequences.push(...chunk.lines.map((l) => l.sequence));
    if (chunk.end) complete = chunk.end.complete;
  }
  return { sequences, complete };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('LogCollector (NATS + PostgreSQL)', () => {
  let nats: NatsServer;
  let db: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  let collector: LogCollector;

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    bus = await createNatsBus({ servers: nats.url, name: 'log-collector-test', logger: silent });
    await bus.ensureStreams();
    collector = new LogCollector({ pool, bus, logger: silent, maintenance: { intervalMs: 0 } });
    await collector.start();
  });

  afterAll(async () => {
    await collector.stop();
    await bus.close();
    await pool.end();
    await db.drop();
    await nats.stop();
  });

  it('stores every line once, in order, however batches arrive and repeat', async () => {
    const id = 'att-order';
    await publish(bus, id, 501, 1000);
    await publish(bus, id, 1, 500);
    // The same lines again under another message id: a redelivery the duplicate window did not catch.
    await bus.publish(subjects.logs(id), batch(id, 1, 500), { msgId: 'again' });
    await publish(bus, id, 1001, 1200, 1200);
    await waitComplete(pool, id);
    const lines = await readLogLines(pool, id, 0, 5000);
    expect(lines.map((l) => l.sequence)).toEqual(range(1, 1200));
    expect(lines[41]?.text).toBe('line 42');
    expect(await getLogStatus(pool, id)).toEqual({ storedCount: 1200, finalCount: 1200, complete: true });
    // The batches' workflow is recorded for its log retention.
    expect((await pool.query(`SELECT workflow FROM log_attempts WHERE attempt_id = $1`, [id])).rows).toEqual([{ workflow: 'w' }]);
  });

  it('tails history, then live lines in order, and ends when the log is complete', async () => {
    const id = 'att-tail';
    await publish(bus, id, 1, 100);
    const tail = collect(collector.tailLogs(id, 0));
    // Out of order: the tail must not skip 101-200 nor show 201-300 first.
    await publish(bus, id, 201, 300);
    await publish(bus, id, 101, 200);
    await publish(bus, id, 301, 310, 310);
    expect(await tail).toEqual({ sequences: range(1, 310), complete: true });
  });

  it('resumes a tail after a given sequence, and ends at once for a complete log', async () => {
    expect(await collect(collector.tailLogs('att-tail', 305))).toEqual({ sequences: range(306, 310), complete: true });
    expect(await collect(collector.tailLogs('att-tail', 310))).toEqual({ sequences: [], complete: true });
  });

  it('fails a tail whose reader falls behind instead of buffering without bound', async () => {
    const id = 'att-slow';
    await publish(bus, id, 1, 10);
    const tail = collector.tailLogs(id, 0, { maxBufferedLines: 100 });
    const first = await tail.next();
    expect(first.value?.lines).toHaveLength(10);
    // The reader takes nothing while 1,000 lines are stored.
    await publish(bus, id, 11, 510);
    await publish(bus, id, 511, 1010, 1010);
    await waitComplete(pool, id);
    let error: unknown;
    try {
      for (;;) {
        const step = await tail.next();
        if (step.done) break;
      }
    } catch (err) {
      error = err;
    }
    expect(isSlowReader(error)).toBe(true);
    expect(collector.feed.attemptsWatched).toBe(0);
  });

  it('ends a tail when its signal aborts', async () => {
    const abort = new AbortController();
    const tail = collect(collector.tailLogs('att-never-ends', 0, { signal: abort.signal }));
    await publish(bus, 'att-never-ends', 1, 3);
    setTimeout(() => abort.abort(), 200);
    const result = await tail;
    expect(result.complete).toBeUndefined();
    expect(collector.feed.attemptsWatched).toBe(0);
  });
});

/** A TCP proxy the test can cut: PostgreSQL "down" for one collector, up for the test. */
async function startProxy(target: { host: string; port: number }): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  let open = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no proxy address');
  return {
    port: address.port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('LogCollector with its store down', () => {
  it('stops acking while the store is down and catches up, losing nothing, when it is back', async () => {
    const logger = process.env['DEBUG_LOGS'] ? pino({ level: 'debug' }) : silent;
    const nats = await startNatsServer();
    const db = await createTestDatabase();
    const pool = createPool(db.url);
    await migrate(pool);
    const url = new URL(db.url);
    const proxy = await startProxy({ host: url.hostname, port: Number(url.port) });
    const proxied = new URL(db.url);
    proxied.host = `127.0.0.1:${proxy.port}`;
    const collectorPool = createPool(proxied.toString(), { onIdleError: () => undefined });
    const bus = await createNatsBus({ servers: nats.url, name: 'log-collector-down-test', logger: silent });
    await bus.ensureStreams();
    const collector = new LogCollector({ pool: collectorPool, bus, logger, storeRetryDelayMs: 100, maintenance: { intervalMs: 0 } });
    await collector.start();
    try {
      const id = 'att-down';
      await publish(bus, id, 1, 100);
      await waitComplete(pool, id, 30_000, 100);
      expect((await getLogStatus(pool, id)).storedCount).toBe(100);

      proxy.cut();
      for (let from = 101; from <= 2000; from += 100) await publish(bus, id, from, from + 99, from + 99 === 2000 ? 2000 : undefined);
      // The collector keeps failing while the proxy is cut: nothing more is stored.
      await new Promise((r) => setTimeout(r, 1500));
      expect((await getLogStatus(pool, id)).storedCount).toBe(100);

      proxy.restore();
      await waitComplete(pool, id, 60_000);
      expect((await readLogLines(pool, id, 0, 5000)).map((l) => l.sequence)).toEqual(range(1, 2000));
    } finally {
      await collector.stop();
      await bus.close();
      await collectorPool.end();
      await proxy.close();
      await pool.end();
      await db.drop();
      await nats.stop();
    }
  }, 120_000);
});
