import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { createPool } from './db';
import { createFsLogStore } from './fs-log-store';
import { createPgLogStore, type LogStore } from './log-store';
import type { LogLineRecord } from './logs';
import { migrate } from './migrate';

function lines(from: number, to: number, prefix = 'l'): LogLineRecord[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ sequence: from + i, stream: 1 as const, time: new Date(1_800_000_000_000 + i), text: `${prefix}${from + i}` }));
}
const seqs = (records: readonly LogLineRecord[]) => records.map((l) => l.sequence);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

interface Fixture {
  readonly store: LogStore;
  /** Makes an attempt's log look unchanged for `days`. */
  age(attemptId: string, days: number): Promise<void>;
  close(): Promise<void>;
}

const backends: [string, () => Promise<Fixture>][] = [
  ['PostgreSQL', async () => {
    const db: TestDatabase = await createTestDatabase();
    const pool: Pool = createPool(db.url);
    await migrate(pool);
    return {
      store: createPgLogStore(pool),
      age: async (attemptId, days) => {
        await pool.query(`UPDATE log_attempts SET update_time = now() - make_interval(days => $2) WHERE attempt_id = $1`, [attemptId, days]);
      },
      close: async () => { await pool.end(); await db.drop(); },
    };
  }],
  ['filesystem', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skein-fs-logs-'));
    const { readFileSync, writeFileSync } = await import('node:fs');
    return {
      store: createFsLogStore(dir),
      age: async (attemptId, days) => {
        const file = path.join(dir, encodeURIComponent(attemptId), 'meta.json');
        const meta = JSON.parse(readFileSync(file, 'utf8')) as { updateTime: number };
        writeFileSync(file, JSON.stringify({ ...meta, updateTime: Date.now() - days * 86_400_000 }));
      },
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }],
];

describe.each(backends)('the %s log store', (_name, makeFixture) => {
  let fixture: Fixture;
  let store: LogStore;

  beforeAll(async () => {
    fixture = await makeFixture();
    store = fixture.store;
  });

  afterAll(() => fixture.close());

  it('stores idempotently, in any order, and knows when a log is complete', async () => {
    const statuses = await store.storeBatches([
      { attemptId: 'a/1', lines: lines(4, 6), finalCount: null },
      { attemptId: 'b', lines: lines(1, 2), finalCount: 2 },
    ]);
    expect(statuses.get('a/1')).toEqual({ storedCount: 3, finalCount: null, complete: false });
    expect(statuses.get('b')).toEqual({ storedCount: 2, finalCount: 2, complete: true });
    // Redelivered, and the missing head with the final count.
    await store.storeBatches([{ attemptId: 'a/1', lines: lines(4, 6), finalCount: null }]);
    const after = await store.storeBatches([{ attemptId: 'a/1', lines: lines(1, 3), finalCount: 7 }]);
    expect(after.get('a/1')).toEqual({ storedCount: 6, finalCount: 7, complete: false });
    await store.storeBatches([{ attemptId: 'a/1', lines: [...lines(7, 7), ...lines(6, 6)], finalCount: 7 }]);
    expect(await store.status('a/1')).toEqual({ storedCount: 7, finalCount: 7, complete: true });
    expect(await store.status('unknown')).toEqual({ storedCount: 0, finalCount: null, complete: false });
  });

  it('takes a call of many batches at once: one attempt in several, an attempt with only its final count, one with nothing new', async () => {
    await store.storeBatches([{ attemptId: 'm-old', lines: lines(1, 2), finalCount: null }]);
    const statuses = await store.storeBatches([
      { attemptId: 'm-1', lines: lines(1, 2), finalCount: null },
      { attemptId: 'm-2', lines: [], finalCount: 0 },
      { attemptId: 'm-1', lines: lines(3, 3), finalCount: 3 },
      { attemptId: 'm-old', lines: lines(1, 2), finalCount: null },
      { attemptId: 'm-1', lines: lines(2, 3), finalCount: null },
    ]);
    expect(statuses.get('m-1')).toEqual({ storedCount: 3, finalCount: 3, complete: true });
    expect(statuses.get('m-2')).toEqual({ storedCount: 0, finalCount: 0, complete: true });
    expect(statuses.get('m-old')).toEqual({ storedCount: 2, finalCount: null, complete: false });
    expect((await store.readLines('m-1', 0, 10)).map((l) => l.sequence)).toEqual([1, 2, 3]);
  });

  it('reads lines after a sequence, in order, in pages', async () => {
    expect(seqs(await store.readLines('a/1', 0, 100))).toEqual(range(1, 7));
    expect(seqs(await store.readLines('a/1', 2, 3))).toEqual([3, 4, 5]);
    expect(seqs(await store.readLines('a/1', 7, 3))).toEqual([]);
    const [line] = await store.readLines('a/1', 4, 1);
    expect(line).toEqual({ sequence: 5, stream: 1, time: new Date(1_800_000_000_001), text: 'l5' });
    expect(await store.readLines('unknown', 0, 10)).toEqual([]);
  });

  it('sums the bytes of stored output text, system lines aside, each line once', async () => {
    expect(await store.outputBytes('bytes-none')).toBe(0);
    const at = new Date(1_800_000_000_000);
    await store.storeBatches([{ attemptId: 'bytes', finalCount: null, lines: [
      { sequence: 1, stream: 3, time: at, text: 'a system line' },
      { sequence: 2, stream: 1, time: at, text: 'héllo' },
      { sequence: 3, stream: 2, time: at, text: 'abc' },
    ] }]);
    // Stored again, and overlapping: nothing counts twice.
    await store.storeBatches([{ attemptId: 'bytes', finalCount: null, lines: [
      { sequence: 3, stream: 2, time: at, text: 'abc' },
      { sequence: 4, stream: 1, time: at, text: '✓' },
    ] }]);
    expect(await store.outputBytes('bytes')).toBe(6 + 3 + 3);
  });

  it('keeps any text, NUL aside', async () => {
    const text = 'tab\there "quoted" \\ émoji 😀 \uFFFD';
    await store.storeBatches([{ attemptId: 'text', lines: [{ sequence: 1, stream: 2, time: new Date(0), text }], finalCount: 1 }]);
    expect((await store.readLines('text', 0, 1))[0]).toMatchObject({ stream: 2, text });
  });

  it('flags gaps and deletes only expired logs', async () => {
    await store.storeBatches([
      { attemptId: 'gap', lines: [...lines(1, 2), ...lines(5, 5)], finalCount: 5 },
      { attemptId: 'old', lines: lines(1, 1500), finalCount: 1500 },
      { attemptId: 'fresh', lines: lines(1, 3), finalCount: 3 },
    ]);
    expect(await store.flagGaps(60_000)).toEqual([]);
    await fixture.age('gap', 1);
    expect(await store.flagGaps(60_000)).toEqual([{ attemptId: 'gap', missing: 2 }]);
    expect(await store.status('gap')).toEqual({ storedCount: 3, finalCount: 5, complete: false, gap: true });

    await fixture.age('old', 40);
    const result = await store.deleteExpired({ before: new Date(Date.now() - 30 * 86_400_000), exceptWorkflows: [] }, { batchLines: 500, maxAttempts: 10 });
    expect(result).toEqual({ attempts: 1, lines: 1500 });
    expect(await store.readLines('old', 0, 10)).toEqual([]);
    expect(await store.status('old')).toEqual({ storedCount: 0, finalCount: null, complete: false });
    expect(seqs(await store.readLines('fresh', 0, 10))).toEqual([1, 2, 3]);
    expect(seqs(await store.readLines('gap', 0, 10))).toEqual([1, 2, 5]);
  });

  it('deletes by workflow: one workflow, or every workflow but some (and logs with none)', async () => {
    await store.storeBatches([
      { attemptId: 'etl-1', lines: lines(1, 3), finalCount: null, workflow: 'etl' },
      { attemptId: 'etl-2', lines: lines(1, 2), finalCount: 2, workflow: 'etl' },
      { attemptId: 'report-1', lines: lines(1, 2), finalCount: 2, workflow: 'report' },
      { attemptId: 'nameless', lines: lines(1, 2), finalCount: 2 },
    ]);
    // A later batch without a workflow (an older executor) keeps the one recorded.
    await store.storeBatches([{ attemptId: 'etl-1', lines: lines(4, 4), finalCount: 4, workflow: '' }]);
    for (const attemptId of ['etl-1', 'etl-2', 'report-1', 'nameless']) await fixture.age(attemptId, 10);
    const before = new Date(Date.now() - 5 * 86_400_000);
    const options = { batchLines: 1, maxAttempts: 10 };

    expect(await store.deleteExpired({ before, workflow: 'etl' }, options)).toEqual({ attempts: 2, lines: 6 });
    expect(await store.readLines('etl-1', 0, 10)).toEqual([]);
    expect(seqs(await store.readLines('report-1', 0, 10))).toEqual([1, 2]);
    expect(seqs(await store.readLines('nameless', 0, 10))).toEqual([1, 2]);

    expect(await store.deleteExpired({ before, exceptWorkflows: ['report'] }, options)).toEqual({ attempts: 1, lines: 2 });
    expect(await store.readLines('nameless', 0, 10)).toEqual([]);
    expect(seqs(await store.readLines('report-1', 0, 10))).toEqual([1, 2]);
    expect(await store.deleteExpired({ before: new Date(Date.now() - 20 * 86_400_000), workflow: 'report' }, options)).toEqual({ attempts: 0, lines: 0 });
    expect(seqs(await store.readLines('report-1', 0, 10))).toEqual([1, 2]);
  });
});
