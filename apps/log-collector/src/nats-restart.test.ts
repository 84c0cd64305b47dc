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

/** The executor and the collector on one nats-server that is restarted while the task writes. */
describe('task logs across a NATS restart', () => {
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

  it('loses no line when nats-server restarts mid-stream', async () => {
    const gate = path.join(dir, 'gate');
    const attemptId = `att-${randomUUID()}`;
    const dispatch = TaskDispatch.fromPartial({
      attemptId, runId: `run-${randomUUID()}`, workflow: 'w', workflowVersion: 1, task: 'write', attempt: 1, queue: 'default',
      command: ['sh', '-c', `seq 1 ${LINES / 2}; while [ ! -f '${gate}' ]; do sleep 0.05; done; seq ${LINES / 2 + 1} ${LINES}`],
      logicalDate: new Date(), dispatchTime: new Date(),
    });
    await executorBus.publish(subjects.dispatch('default'), TaskDispatch.encode(dispatch).finish(), { msgId: attemptId });
    await waitFor('first lines stored', async () => (await getLogStatus(pool, attemptId)).storedCount > 0);

    await nats.restart();
    // Lines written while the clients reconnect are held by the executor and published after.
    writeFileSync(gate, '');
    expect(existsSync(gate)).toBe(true);
    await waitFor('log complete', async () => (await getLogStatus(pool, attemptId)).complete);

    const { rows } = await pool.query<{ lines: string; numbers: string; in_place: string; max_seq: string }>(
      `SELECT count(*) AS lines, max(seq) AS max_seq,
              count(*) FILTER (WHERE stream = 1) AS numbers,
              count(*) FILTER (WHERE stream = 1 AND text::bigint = seq - 1) AS in_place
         FROM log_lines WHERE attempt_id = $1`, [attemptId]);
    const status = await getLogStatus(pool, attemptId);
    expect(rows[0]).toEqual({ lines: String(status.finalCount), max_seq: String(status.finalCount), numbers: String(LINES), in_place: String(LINES) });
  }, 120_000);
});
