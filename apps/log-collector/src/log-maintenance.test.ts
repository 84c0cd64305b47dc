import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Pool } from 'pg';
import { parseWorkflowFile } from '@skein/domain';
import {
  createFsLogStore, createPgLogStore, createPool, getLogStatus, insertWorkflowIfAbsent, insertWorkflowVersion, listWorkflowLogRetention,
  migrate, readLogLines, setWorkflowCurrentVersion, type LogStore,
} from '@skein/store';
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

  /** Applies version `version` of workflow `name`, with `spec.logRetentionDays` when given, as the api does. */
  async function applyWorkflow(name: string, logRetentionDays: number | undefined, version = 1): Promise<void> {
    const retention = logRetentionDays === undefined ? '' : `  logRetentionDays: ${logRetentionDays}\n`;
    const parsed = parseWorkflowFile(
      `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: ${name}}\nspec:\n${retention}  tasks: [{name: t, command: ["true"]}]\n`, `${name}.yaml`);
    const workflow = parsed.workflows[0];
    if (!workflow) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
    await insertWorkflowIfAbsent(pool, name);
    await insertWorkflowVersion(pool, { workflowId: name, version, spec: workflow.spec, digest: workflow.digest });
    await setWorkflowCurrentVersion(pool, { id: name, version, labels: {}, schedule: null });
  }

  it('reads each workflow\'s logRetentionDays from its current version', async () => {
    await applyWorkflow('r-short', 7);
    await applyWorkflow('r-none', undefined);
    await applyWorkflow('r-changed', 5);
    await applyWorkflow('r-changed', 60, 2);
    const retention = await listWorkflowLogRetention(pool);
    expect([...retention].filter(([name]) => name.startsWith('r-')).sort()).toEqual([['r-changed', 60], ['r-short', 7]]);
  });

  it('honours each workflow\'s logRetentionDays over the default, in both directions and 0 = forever', async () => {
    await applyWorkflow('short', 7);
    await applyWorkflow('long', 90);
    await applyWorkflow('forever', 0);
    await applyWorkflow('plain', undefined);
    const attempts: [string, string | undefined, number, 'deleted' | 'kept'][] = [
      ['short-old', 'short', 10, 'deleted'],
      ['short-new', 'short', 3, 'kept'],
      ['long-mid', 'long', 40, 'kept'], // older than the default, within its workflow's 90 days
      ['long-old', 'long', 100, 'deleted'],
      ['forever-old', 'forever', 4000, 'kept'],
      ['plain-old', 'plain', 40, 'deleted'],
      ['plain-new', 'plain', 20, 'kept'],
      ['gone-old', 'gone', 40, 'deleted'], // a workflow that no longer exists: the default
      ['nameless-old', undefined, 40, 'deleted'], // stored by an executor that did not say
    ];
    await store.storeBatches(attempts.map(([attemptId, workflow]) => ({ attemptId, lines: lines(1, 1200), finalCount: 1200, ...(workflow && { workflow }) })));
    for (const [attemptId, , days] of attempts) await age(attemptId, days);

    const maintenance = new LogMaintenance(store, silent, {
      retentionDays: 30, deleteBatchLines: 500, intervalMs: 0, workflowRetention: () => listWorkflowLogRetention(pool),
    });
    await maintenance.runOnce();

    for (const [attemptId, , , expected] of attempts) {
      const stored = (await getLogStatus(pool, attemptId)).storedCount;
      expect([attemptId, stored]).toEqual([attemptId, expected === 'deleted' ? 0 : 1200]);
    }
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

describe('LogMaintenance (filesystem store)', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'skein-fs-retention-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const age = (attemptId: string, days: number) => {
    const file = path.join(dir, encodeURIComponent(attemptId), 'meta.json');
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { updateTime: number };
    writeFileSync(file, JSON.stringify({ ...meta, updateTime: Date.now() - days * 86_400_000 }));
  };

  it('honours per-workflow retention the same way', async () => {
    const store = createFsLogStore(dir);
    await store.storeBatches([
      { attemptId: 'short-old', lines: lines(1, 3), finalCount: 3, workflow: 'short' },
      { attemptId: 'long-mid', lines: lines(1, 3), finalCount: 3, workflow: 'long' },
      { attemptId: 'forever-old', lines: lines(1, 3), finalCount: 3, workflow: 'forever' },
      { attemptId: 'plain-old', lines: lines(1, 3), finalCount: 3, workflow: 'plain' },
      { attemptId: 'plain-new', lines: lines(1, 3), finalCount: 3, workflow: 'plain' },
    ]);
    age('short-old', 10);
    age('long-mid', 40);
    age('forever-old', 4000);
    age('plain-old', 40);
    age('plain-new', 20);
    const overrides = new Map([['short', 7], ['long', 90], ['forever', 0]]);
    await new LogMaintenance(store, silent, { retentionDays: 30, intervalMs: 0, workflowRetention: () => Promise.resolve(overrides) }).runOnce();
    const kept = [];
    for (const attemptId of ['short-old', 'long-mid', 'forever-old', 'plain-old', 'plain-new']) {
      if ((await store.status(attemptId)).storedCount > 0) kept.push(attemptId);
    }
    expect(kept).toEqual(['long-mid', 'forever-old', 'plain-new']);
  });
});
