import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import type { WorkflowSpec } from '@skein/domain';
import { applyPool, applyWorkflow, createPool, grantSlots, insertRun, insertSlotWaits, insertTaskRuns, lockRun, lockRunReadingTaskRuns, lockRunsOf, migrate, readRunSnapshot, withTransaction, writeRunChanges, writeRunChangesIf, type RunChanges } from './index';

const spec = {
  apiVersion: 'skein.dev/v1', kind: 'Workflow', metadata: { name: 'locking', labels: {} },
  spec: {
    timezone: 'UTC', catchup: false, params: {},
    tasks: ['a', 'b', 'c'].map((name) => ({ name, command: ['true'], args: [], env: [], dependsOn: [], retries: 0, retryDelayMs: 0, timeoutMs: 0, queue: 'default', triggerRule: 'allSuccess' })),
  },
} as unknown as WorkflowSpec;

describe('lockRunReadingTaskRuns', () => {
  let db: TestDatabase;
  let pool: Pool;
  let runId = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    await applyWorkflow(pool, spec, 'digest-1');
    const run = await insertRun(pool, {
      id: 'run-locking', workflowId: 'locking', workflowVersion: 1, state: 'queued', trigger: 'manual', params: {}, logicalDate: new Date(), startTime: null, taskCount: 3,
    });
    runId = run.id;
    await insertTaskRuns(pool, runId, ['a', 'b', 'c'].map((task, position) => ({ task, position, state: 'pending', currentAttempt: 0, upstreamTotal: 0 })));
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('returns the run and only the named task runs', async () => {
    const locked = await withTransaction(pool, (tx) => lockRunReadingTaskRuns(tx, runId, ['a', 'c']));
    expect(locked?.run).toMatchObject({ id: runId, workflowId: 'locking', workflowVersion: 1, unfinishedTasks: 3 });
    expect(locked?.taskRuns.map((t) => t.task).sort()).toEqual(['a', 'c']);
    expect(locked?.taskRuns[0]).toMatchObject({ runId, state: 'pending', currentAttempt: 0, upstream: { total: 0, succeeded: 0 } });
  });

  it('returns undefined (locking nothing) for an unknown run or tasks not in it', async () => {
    expect(await withTransaction(pool, (tx) => lockRunReadingTaskRuns(tx, 'no-such-run', ['a']))).toBeUndefined();
    expect(await withTransaction(pool, (tx) => lockRunReadingTaskRuns(tx, runId, ['zz']))).toBeUndefined();
  });

  it('waits for the run lock and then sees what its holder committed (not the snapshot from before the wait)', async () => {
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await lockRun(holder, runId);
      // The way every writer works: the run row locked, then task runs and the run's counters changed.
      await holder.query(`UPDATE task_runs SET state = 'queued', current_attempt = 7 WHERE run_id = $1 AND task = 'b'`, [runId]);
      await holder.query(`UPDATE runs SET unfinished_tasks = 2 WHERE id = $1`, [runId]);
      let readDone = false;
      const read = withTransaction(pool, (tx) => lockRunReadingTaskRuns(tx, runId, ['a', 'b'])).then((r) => {
        readDone = true;
        return r;
      });
      // The reader is blocked on the lock: wait until PostgreSQL shows it waiting.
      for (;;) {
        const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
        if ((rows[0] as { n: number }).n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(readDone).toBe(false);
      await holder.query('COMMIT');
      const locked = await read;
      expect(locked?.run.unfinishedTasks).toBe(2);
      expect(locked?.taskRuns.find((t) => t.task === 'b')).toMatchObject({ state: 'queued', currentAttempt: 7 });
      expect(locked?.taskRuns.find((t) => t.task === 'a')).toMatchObject({ state: 'pending' });
    } finally {
      holder.release();
    }
  });

  it('sees a slot grant that committed while it waited (grantSlots writes the run row too)', async () => {
    await applyPool(pool, { apiVersion: 'skein.dev/v1', kind: 'Pool', metadata: { name: 'locking-pool', labels: {} }, spec: { slots: 1 } });
    await pool.query(`UPDATE task_runs SET state = 'scheduled', current_attempt = 1 WHERE run_id = $1 AND task = 'c'`, [runId]);
    await insertSlotWaits(pool, runId, [{
      attemptId: 'attempt-c-1', task: 'c', number: 1, workflowId: 'locking', pool: 'locking-pool', poolSlots: 1, maxActiveTasks: null, priority: 0,
      queuedTimeoutMs: null, waitTime: new Date(), dispatch: { subject: 'skein.dispatch.default', msgId: 'attempt-c-1', payload: new Uint8Array([1]), headers: {} },
    }]);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await lockRunsOf(holder, [runId]);
      expect(await grantSlots(holder, [{ attemptId: 'attempt-c-1', limitsWorkflow: false }], new Date())).toHaveLength(1);
      const read = withTransaction(pool, (tx) => lockRunReadingTaskRuns(tx, runId, ['c']));
      for (;;) {
        const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
        if ((rows[0] as { n: number }).n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await holder.query('COMMIT');
      // Without the run row's new version the reader would keep c as 'scheduled' and write it back so.
      expect((await read)?.taskRuns[0]).toMatchObject({ task: 'c', state: 'queued', currentAttempt: 1 });
    } finally {
      holder.release();
    }
  });
});

describe('readRunSnapshot and writeRunChangesIf (the optimistic hot path)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let runId = '';

  const changes = (deleteOutbox: number[] = []): RunChanges => ({
    runId, attempts: [], newAttempts: [], outbox: [{ subject: 'skein.dispatch.default', msgId: `m-${Math.random()}`, payload: new Uint8Array([1]), headers: {} }],
    deleteOutbox,
    taskRuns: [{ task: 'b', state: 'queued', currentAttempt: 1, failedAttempts: 0, retryAt: null, startTime: null, endTime: null,
      upstream: { total: 0, succeeded: 0, failed: 0, upstreamFailed: 0, skipped: 0, cancelled: 0 } }],
    run: { unfinishedDelta: -1, failedDelta: 0, cancelledDelta: 0, startedAt: null, end: null },
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    await applyWorkflow(pool, spec, 'digest-1');
    runId = (await insertRun(pool, {
      id: 'run-optimistic', workflowId: 'locking', workflowVersion: 1, state: 'queued', trigger: 'manual', params: {}, logicalDate: new Date(), startTime: null, taskCount: 3,
    })).id;
    await insertTaskRuns(pool, runId, ['a', 'b', 'c'].map((task, position) => ({ task, position, state: 'pending', currentAttempt: 0, upstreamTotal: 0 })));
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const outboxIds = async () => (await pool.query<{ id: string }>('SELECT id FROM outbox ORDER BY id')).rows.map((r) => Number(r.id));

  it('reads the run, its row version and the named task runs without locking anything', async () => {
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await lockRun(holder, runId);
      // A lock holder does not block the read.
      const snapshot = await readRunSnapshot(pool, runId, ['a', 'c']);
      expect(snapshot?.run).toMatchObject({ id: runId, unfinishedTasks: 3 });
      expect(snapshot?.version).toMatch(/^\d+$/);
      expect(snapshot?.taskRuns.map((t) => t.task).sort()).toEqual(['a', 'c']);
      await holder.query('ROLLBACK');
    } finally {
      holder.release();
    }
    expect(await readRunSnapshot(pool, 'no-such-run', ['a'])).toBeUndefined();
  });

  it('writes everything when the run row is still at the version read, and nothing when a writer changed it since', async () => {
    const before = await readRunSnapshot(pool, runId, ['b']);
    // Another writer commits in between (every writer of task runs also writes the run row).
    await pool.query('UPDATE runs SET failed_tasks = failed_tasks WHERE id = $1', [runId]);
    const outboxBefore = await outboxIds();

    expect(await writeRunChangesIf(pool, changes(), before?.version as string, [])).toBeUndefined();

    const after = await readRunSnapshot(pool, runId, ['b']);
    expect(after?.run.unfinishedTasks).toBe(3);
    expect(after?.taskRuns[0]).toMatchObject({ state: 'pending', currentAttempt: 0 });
    expect(await outboxIds()).toEqual(outboxBefore);

    const guarded = await writeRunChangesIf(pool, changes(), after?.version as string, ['a', 'b']);
    expect(guarded?.outboxIds).toHaveLength(1);
    const written = await readRunSnapshot(pool, runId, ['a', 'b']);
    expect(written?.run.unfinishedTasks).toBe(2);
    expect(written?.taskRuns.find((t) => t.task === 'b')).toMatchObject({ state: 'queued', currentAttempt: 1 });
    expect(written?.version).not.toBe(after?.version);
    // What the write returns is the run as it now is: row, version, the task run written and the one kept.
    expect(guarded?.after.version).toBe(written?.version);
    expect(guarded?.after.run).toEqual(written?.run);
    expect([...(guarded?.after.taskRuns ?? [])].sort((x, y) => x.task.localeCompare(y.task))).toEqual([...(written?.taskRuns ?? [])].sort((x, y) => x.task.localeCompare(y.task)));
    // So a second write can be guarded by it without a read.
    expect(await writeRunChangesIf(pool, { ...changes(), run: { ...changes().run, unfinishedDelta: 0 } }, guarded?.after.version as string, [])).toBeDefined();
  });

  it('deletes the sent outbox rows it was handed even when the run changed (they are published either way)', async () => {
    const sent = await writeRunChanges(pool, changes());
    const stale = await readRunSnapshot(pool, runId, ['b']);
    await pool.query('UPDATE runs SET failed_tasks = failed_tasks WHERE id = $1', [runId]);

    expect(await writeRunChangesIf(pool, changes(sent), stale?.version as string, [])).toBeUndefined();
    expect(await outboxIds()).not.toContain(sent[0]);
  });

  it('waits for a lock holder and then writes nothing if the holder changed the run', async () => {
    const snapshot = await readRunSnapshot(pool, runId, ['b']);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await lockRun(holder, runId);
      await holder.query('UPDATE runs SET unfinished_tasks = unfinished_tasks + 10 WHERE id = $1', [runId]);
      const write = writeRunChangesIf(pool, changes(), snapshot?.version as string, []);
      for (;;) {
        const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
        if ((rows[0] as { n: number }).n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await holder.query('COMMIT');
      expect(await write).toBeUndefined();
      expect((await readRunSnapshot(pool, runId, ['b']))?.run.unfinishedTasks).toBe((snapshot?.run.unfinishedTasks ?? 0) + 10);
    } finally {
      holder.release();
    }
  });
});
