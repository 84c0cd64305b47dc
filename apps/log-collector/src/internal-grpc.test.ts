import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { Pool } from 'pg';
import { createInProcessBus, subjects, type Bus } from '@skein/bus';
import { LogBatch, LogLineStream } from '@skein/proto';
import { createPool, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { createInternalGrpcServer } from '@skein/config';
import { addLogCollectorService, createLogCollectorClient } from './internal-grpc';
import { LogCollector } from './log-collector';

const silent = pino({ enabled: false });

function batch(attemptId: string, from: number, to: number, finalCount?: number, width = 10): Uint8Array {
  const lines = [];
  for (let s = from; s <= to; s++) lines.push({ sequence: s, stream: LogLineStream.LOG_LINE_STREAM_STDOUT, time: new Date(), text: `${s}`.padEnd(width, '.') });
  return LogBatch.encode({ attemptId, runId: 'run', workflow: 'w', task: 't', attempt: 1, lines, finalCount }).finish();
}

describe('LogCollectorService over gRPC', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  let collector: LogCollector;
  let server: grpc.Server;
  let client: ReturnType<typeof createLogCollectorClient>;
  let address: string;
  const internalToken = 'i'.repeat(40);

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    bus = createInProcessBus();
    await bus.ensureStreams();
    collector = new LogCollector({ pool, bus, logger: silent, maintenance: { intervalMs: 0 } });
    await collector.start();
    server = createInternalGrpcServer(internalToken);
    addLogCollectorService(server, collector, { tailStallTimeoutMs: 500 });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = createLogCollectorClient({ address: `127.0.0.1:${port}`, internalToken });
    address = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await collector.stop();
    await bus.close();
    await pool.end();
    await db.drop();
  });

  it('refuses reads and tails without the internal token', async () => {
    const intruder = createLogCollectorClient({ address, internalToken: 'w'.repeat(40) });
    try {
      await expect(intruder.readLogs('grpc-tail', 0, 10)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      await expect((async () => {
        for await (const chunk of intruder.tailLogs('grpc-tail', 0)) void chunk;
      })()).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    } finally {
      intruder.close();
    }
  });

  it('tails history and live lines until the log is complete', async () => {
    const id = 'grpc-tail';
    await bus.publish(subjects.logs(id), batch(id, 1, 50));
    const received: number[] = [];
    let complete: boolean | undefined;
    const done = (async () => {
      for await (const chunk of client.tailLogs(id, 0)) {
        received.push(...chunk.lines.map((l) => l.sequence));
        if (received.length === 50) await bus.publish(subjects.logs(id), batch(id, 51, 60, 60));
        if (chunk.end) complete = chunk.end.complete;
      }
    })();
    await done;
    expect(received).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(complete).toBe(true);
    const page = await client.readLogs(id, 55, 100);
    expect(page.lines.map((l) => l.sequence)).toEqual([56, 57, 58, 59, 60]);
    expect(page.complete).toBe(true);
  });

  it('ends the tail of a reader that stops reading with RESOURCE_EXHAUSTED', async () => {
    const id = 'grpc-slow';
    // ~40 MB of history: more than every buffer between the server and a client that reads nothing.
    for (let from = 1; from <= 100_000; from += 5000) {
      await collector.store.storeBatches([{ attemptId: id, finalCount: null, lines: LogBatch.decode(batch(id, from, from + 4999, undefined, 400)).lines.map((l) => ({ sequence: l.sequence, stream: 1 as const, time: l.time ?? new Date(), text: l.text })) }]);
    }
    const tail = client.tailLogs(id, 0);
    const first = await tail.next();
    expect(first.value?.lines[0]?.sequence).toBe(1);
    // Read nothing for longer than the stall timeout, then read on: the server has given up.
    await new Promise((r) => setTimeout(r, 2000));
    let error: unknown;
    let received = first.value?.lines.length ?? 0;
    try {
      for (;;) {
        const step = await tail.next();
        if (step.done) break;
        received += step.value.lines.length;
      }
    } catch (err) {
      error = err;
    }
    expect((error as grpc.ServiceError | undefined)?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(received).toBeLessThan(100_000);
  }, 60_000);
});
