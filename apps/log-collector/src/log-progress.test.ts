import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { Pool } from 'pg';
import { createInProcessBus, type Bus } from '@skein/bus';
import { createPool, migrate, type LogLineRecord, type LogStreamCode } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { addLogCollectorService, createLogCollectorClient } from './internal-grpc';
import { LogCollector } from './log-collector';
import { createInternalGrpcServer } from '@skein/config';

const silent = pino({ enabled: false });
const MARK = ' [skein: line continues]';

function line(sequence: number, stream: LogStreamCode, ms: number, text = `line ${sequence}`): LogLineRecord {
  return { sequence, stream, time: new Date(Date.UTC(2026, 0, 1) + ms), text };
}

describe('GetLogProgress: how far an attempt\'s stored log reaches', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  let collector: LogCollector;
  let server: grpc.Server;
  let client: ReturnType<typeof createLogCollectorClient>;

  const store = (attemptId: string, lines: LogLineRecord[], finalCount: number | null = null) =>
    collector.store.storeBatches([{ attemptId, lines, finalCount }]);

  const internalToken = 'i'.repeat(40);

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    bus = createInProcessBus();
    await bus.ensureStreams();
    collector = new LogCollector({ pool, bus, logger: silent, maintenance: { intervalMs: 0 } });
    server = createInternalGrpcServer(internalToken);
    addLogCollectorService(server, collector);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = createLogCollectorClient({ address: `127.0.0.1:${port}`, internalToken });
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await bus.close();
    await pool.end();
    await db.drop();
  });

  it('says nothing is stored for an unknown attempt', async () => {
    expect(await client.logProgress('progress-none')).toEqual({ lastSequence: 0, outputLinesAtLastTime: 0, complete: false });
  });

  it('names the last sequence, the last output line\'s time and the output lines at that instant', async () => {
    const id = 'progress-basic';
    // A system line first, output lines (two at the last instant, one of them split in two pieces), a system line last.
    await store(id, [
      line(1, 3, 0), line(2, 1, 10), line(3, 2, 20), line(4, 1, 30, `a${MARK}`), line(5, 1, 30, 'a, continued'), line(6, 1, 30), line(7, 3, 40),
    ]);
    expect(await client.logProgress(id)).toEqual({
      lastSequence: 7, lastOutputTime: new Date(Date.UTC(2026, 0, 1) + 30), outputLinesAtLastTime: 2, complete: false,
    });
  });

  it('finds the end past a gap and reports completeness', async () => {
    const id = 'progress-gap';
    await store(id, [line(1, 1, 0), line(2, 1, 1), line(5, 1, 2)], 5);
    expect(await client.logProgress(id)).toMatchObject({ lastSequence: 5, outputLinesAtLastTime: 1, complete: false });
    await store(id, [line(3, 1, 1), line(4, 1, 1)]);
    expect(await client.logProgress(id)).toMatchObject({ lastSequence: 5, complete: true });
  });

  it('reads the whole log when its last lines are all system lines', async () => {
    const id = 'progress-system-tail';
    const lines = [line(1, 1, 5)];
    for (let s = 2; s <= 2600; s++) lines.push(line(s, 3, 10 + s));
    await store(id, lines);
    expect(await client.logProgress(id)).toEqual({
      lastSequence: 2600, lastOutputTime: new Date(Date.UTC(2026, 0, 1) + 5), outputLinesAtLastTime: 1, complete: false,
    });
  });

  it('sums the stored output bytes when asked (system lines and repeats not counted)', async () => {
    const id = 'progress-bytes';
    expect(await client.logProgress(id, { withOutputBytes: true })).toMatchObject({ lastSequence: 0, outputBytes: 0 });
    await store(id, [line(1, 3, 0, 'started'), line(2, 1, 10, 'héllo'), line(3, 2, 20, 'abc')]);
    await store(id, [line(3, 2, 20, 'abc'), line(4, 1, 30, '✓')]);
    expect(await client.logProgress(id, { withOutputBytes: true })).toMatchObject({ lastSequence: 4, outputBytes: 6 + 3 + 3 });
    // Not asked: not read.
    expect(await client.logProgress(id)).not.toHaveProperty('outputBytes');
  });

  it('refuses a request without an attempt id', async () => {
    await expect(client.logProgress('')).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });
});
