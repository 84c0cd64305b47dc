import pino from 'pino';
import type { Pool } from 'pg';
import { createNatsBus, subjects, type Bus } from '@skein/bus';
import { LogBatch, LogLineStream } from '@skein/proto';
import { createPool, getLogStatus, migrate } from '@skein/store';
import { createTestDatabase, startNatsServer, type NatsServer, type TestDatabase } from '@skein/testing';
import { LogCollector } from './log-collector';

const silent = pino({ enabled: false });
/** Far longer than the test may take: a tail that relied on its poll would never finish in time. */
const NO_POLL = { pollIntervalMs: 600_000 };

async function publish(bus: Bus, attemptId: string, from: number, to: number, finalCount?: number): Promise<void> {
  const lines = [];
  for (let s = from; s <= to; s++) lines.push({ sequence: s, stream: LogLineStream.LOG_LINE_STREAM_STDOUT, time: new Date(), text: `line ${s}` });
  const data = LogBatch.encode({ attemptId, runId: 'run', workflow: 'w', task: 't', attempt: 1, lines, finalCount }).finish();
  await bus.publish(subjects.logs(attemptId), data, { msgId: `${attemptId}:${from}` });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Two collector replicas on one nats-server and one database: `storing` consumes every batch, `serving`
 * stores none and serves a tail. The lines reach the tail through the stored-lines notices on core NATS.
 */
describe('live tails across collector replicas', () => {
  let nats: NatsServer;
  let db: TestDatabase;
  let pool: Pool;
  let storingBus: Bus;
  let servingBus: Bus;
  let storing: LogCollector;
  let serving: LogCollector;

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    storingBus = await createNatsBus({ servers: nats.url, name: 'storing', logger: silent });
    servingBus = await createNatsBus({ servers: nats.url, name: 'serving', logger: silent });
    await storingBus.ensureStreams();
    storing = new LogCollector({ pool, bus: storingBus, logger: silent, maintenance: { intervalMs: 0 } });
    serving = new LogCollector({ pool, bus: servingBus, logger: silent, maintenance: { intervalMs: 0 }, ingest: false });
    await storing.start();
    await serving.start();
  });

  afterAll(async () => {
    await serving.stop();
    await storing.stop();
    await servingBus.close();
    await storingBus.close();
    await pool.end();
    await db.drop();
    await nats.stop();
  });

  it('streams lines another replica stores as they are stored, without waiting for a poll', async () => {
    const attemptId = 'replicated';
    await publish(storingBus, attemptId, 1, 100);
    while ((await getLogStatus(pool, attemptId)).storedCount < 100) await new Promise((resolve) => setTimeout(resolve, 20));

    const sequences: number[] = [];
    let complete: boolean | undefined;
    let firstChunk!: () => void;
    const historyRead = new Promise<void>((resolve) => { firstChunk = resolve; });
    const tail = (async () => {
      for await (const chunk of serving.tailLogs(attemptId, 0, NO_POLL)) {
        sequences.push(...chunk.lines.map((l) => l.sequence));
        if (chunk.end) complete = chunk.end.complete;
        firstChunk();
      }
    })();
    // The history first; everything after it is stored by the other replica while the tail waits.
    await historyRead;
    expect(sequences).toEqual(range(1, 100));
    for (let from = 101; from <= 1000; from += 100) await publish(storingBus, attemptId, from, from + 99, from === 901 ? 1000 : undefined);
    await tail;

    expect(complete).toBe(true);
    expect(sequences).toEqual(range(1, 1000));
    expect(serving.feed.attemptsWatched).toBe(0);
  }, 30_000);
});
