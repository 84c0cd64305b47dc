import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Pool } from 'pg';
import { createNatsBus, subjects, type Bus } from '@skein/bus';
import { Executor } from '@skein/executor';
import { TaskDispatch } from '@skein/proto';
import { createLocalRuntime } from '@skein/runtime';
import { createPool, getLogStatus, migrate } from '@skein/store';
import { createTestDatabase, startNatsServer, type NatsServer, type TestDatabase } from '@skein/testing';
import { LogCollector } from './log-collector';

const silent = pino({ enabled: false });
const LINES = 40_000;

/** The executor and the collector on one nats-server that is restarted (or frozen) while the task writes. */
describe('task logs across a NATS restart or stall', () => {
  let nats: NatsServer;
  let db: TestDatabase;
  let pool: Pool;
  let executorBus: Bus;
  let collectorBus: Bus;
  let executor: Executor;
  let collector: LogCollector;
  let dir: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    db = await createTestDatabase();
    pool = createPool(db.url, { onIdleError: () => undefined });
    await migrate(pool);
    dir = mkdtempSync(path.join(os.tmpdir(), 'skein-nats-restart-'));
    executorBus = await createNatsBus({ servers: nats.url, name: 'executor', logger: silent });
    collectorBus = await createNatsBus({ servers: nats.url, name: 'collector', logger: silent });
    await executorBus.ensureStreams();
    collector = new LogCollector({ pool, bus: collectorBus, logger: silent, maintenance: { intervalMs: 0 } });
    await collector.start();
    executor = new Executor({ bus: executorBus, logger: silent, runtimes: { local: createLocalRuntime() } });
    await executor.start();
  });

  afterAll(async () => {
    await executor.stop({ graceMs: 5000 });
    await collector.stop();
    await executorBus.close();
    await collectorBus.close();
    await pool.end();
    await db.drop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Dispatches a task on `queue` that writes lines 1..half, waits for `gate`, then writes the rest up to `lines`. */
  async function dispatchWriter(queue: string, lines: number, gate: string, after = ''): Promise<string> {
    const attemptId = `att-${randomUUID()}`;
    const dispatch = TaskDispatch.fromPartial({
      attemptId, runId: `run-${randomUUID()}`, workflow: 'w', workflowVersion: 1, task: 'write', attempt: 1, queue,
      command: ['sh', '-c', `seq 1 ${lines / 2}; while [ ! -f '${gate}' ]; do sleep 0.05; done; seq ${lines / 2 + 1} ${lines}${after}`],
      logicalDate: new Date(), dispatchTime: new Date(),
    });
    await executorBus.publish(subjects.dispatch(queue), TaskDispatch.encode(dispatch).finish(), { msgId: attemptId });
    await waitFor('first lines stored', async () => (await getLogStatus(pool, attemptId)).storedCount > 0);
    return attemptId;
  }

  /** Every line stored once, in place: stdout line k holds k, `count` lines in all. */
  async function expectAllStored(attemptId: string, count: number): Promise<void> {
    const { rows } = await pool.query<{ lines: string; numbers: string; in_place: string; max_seq: string }>(
      `SELECT count(*) AS lines, max(seq) AS max_seq,
              count(*) FILTER (WHERE stream = 1) AS numbers,
              count(*) FILTER (WHERE stream = 1 AND text::bigint = seq - 1) AS in_place
         FROM log_lines WHERE attempt_id = $1`, [attemptId]);
    const status = await getLogStatus(pool, attemptId);
    expect(rows[0]).toEqual({ lines: String(status.finalCount), max_seq: String(status.finalCount), numbers: String(count), in_place: String(count) });
  }

  it('loses no line when nats-server restarts mid-stream', async () => {
    const gate = path.join(dir, 'gate');
    const attemptId = await dispatchWriter('default', LINES, gate);

    await nats.restart();
    // Lines written while the clients reconnect are held by the executor and published after.
    writeFileSync(gate, '');
    expect(existsSync(gate)).toBe(true);
    await waitFor('log complete', async () => (await getLogStatus(pool, attemptId)).complete);
    await expectAllStored(attemptId, LINES);
  }, 120_000);

  it('blocks a task that outpaces a stalled nats-server on its pipe, drops nothing, and stores every line after', async () => {
    // A small executor buffer: without backpressure into the task, most of its ~1.3 MB written while
    // NATS is frozen would be dropped (and reported) past maxBufferedBytes.
    const smallBuffer = new Executor({
      bus: executorBus, logger: silent, queues: ['stall'], runtimes: { local: createLocalRuntime() },
      logBatch: { highWaterBytes: 64 * 1024, maxBufferedBytes: 256 * 1024 },
    });
    await smallBuffer.start();
    try {
      const lines = 200_000;
      const gate = path.join(dir, 'stall-gate');
      const done = path.join(dir, 'stall-done');
      const attemptId = await dispatchWriter('stall', lines, gate, `; touch '${done}'`);
      nats.freeze();
      try {
        writeFileSync(gate, '');
        // However long NATS stays frozen, the task cannot get past what the pipes and 64 KiB hold.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(existsSync(done)).toBe(false);
      } finally {
        nats.thaw();
      }
      await waitFor('log complete', async () => (await getLogStatus(pool, attemptId)).complete);
      expect(existsSync(done)).toBe(true);
      await expectAllStored(attemptId, lines);
      const dropped = await pool.query(`SELECT seq FROM log_lines WHERE attempt_id = $1 AND text LIKE '%dropped%'`, [attemptId]);
      expect(dropped.rows).toEqual([]);
    } finally {
      await smallBuffer.stop({ graceMs: 5000 });
    }
  }, 120_000);
});
