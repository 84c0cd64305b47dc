import pino from 'pino';
import type { Pool } from 'pg';
import { createPgLogStore, createPool, getLogStatus, migrate, readLogLines, type LogStore } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { LogMaintenance } from './log-maintenance';

const silent = pino({ enabled: false });

function lines(from: number, to: number) {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ sequence: from + i, stream: 1 as const, time: new Date(), text: `l${from + i}` }));
}

describe('LogMaintenance (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: LogStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    store = createPgLogStore(pool);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const age = (attemptId: string, days: number) =>
    pool.query(`UPDATE log_attempts SET update_time = now() - make_interval(days => $2) WHERE attempt_id = $1`, [attemptId, days]);

  it('deletes, in small batches, the logs unchanged for longer than the retention, and nothing else', async () => {
    await store.storeBatches([
      { attemptId: 'old-big', lines: lines(1, 2500), finalCount: 2500 },
      { attemptId: 'old-small', lines: lines(1, 3), finalCount: null },
      { attemptId: 'recent', lines: lines(1, 10), finalCount: 10 },
      { attemptId: 'edge', lines: lines(1, 5), finalCount: 5 },
    ]);
    await age('old-big', 40);
    await age('old-small', 31);
    await age('recent', 3);
    await age('edge', 29);
    const maintenance = new LogMaintenance(store, silent, { retentionDays: 30, deleteBatchLines: 1000, intervalMs: 0 });
    await maintenance.runOnce();

    expect(await readLogLines(pool, 'old-big', 0, 10)).toEqual([]);
    expect(await readLogLines(pool, 'old-small', 0, 10)).toEqual([]);
    expect(await getLogStatus(pool, 'old-big')).toEqual({ storedCount: 0, finalCount: null, complete: false });
    expect((await readLogLines(pool, 'recent', 0, 100)).map((l) => l.sequence)).toEqual(lines(1, 10).map((l) => l.sequence));
    expect((await readLogLines(pool, 'edge', 0, 100))).toHaveLength(5);
    expect((await getLogStatus(pool, 'edge')).complete).toBe(true);
  });

  it('keeps everything when retention is 0', async () => {
    await store.storeBatches([{ attemptId: 'ancient', lines: lines(1, 2), finalCount: 2 }]);
    await age('ancient', 3650);
    await new LogMaintenance(store, silent, { retentionDays: 0, intervalMs: 0 }).runOnce();
    expect(await readLogLines(pool, 'ancient', 0, 10)).toHaveLength(2);
  });

  it('flags an attempt whose final count is known but whose lines stay missing', async () => {
    await store.storeBatches([
      { attemptId: 'gappy', lines: [...lines(1, 4), ...lines(7, 10)], finalCount: 10 },
      { attemptId: 'in-flight', lines: lines(1, 4), finalCount: null },
      { attemptId: 'whole', lines: lines(1, 4), finalCount: 4 },
    ]);
    expect(await store.flagGaps(60_000)).toEqual([]);
    await pool.query(`UPDATE log_attempts SET update_time = now() - interval '1 hour'`);
    expect(await store.flagGaps(60_000)).toEqual([{ attemptId: 'gappy', missing: 2 }]);
    expect(await store.status('gappy')).toEqual({ storedCount: 8, finalCount: 10, complete: false, gap: true });
    // The late lines still complete the log.
    await store.storeBatches([{ attemptId: 'gappy', lines: lines(5, 6), finalCount: null }]);
    expect(await store.status('gappy')).toEqual({ storedCount: 10, finalCount: 10, complete: true });
  });
});
