import type { Pool } from 'pg';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (v: unknown) => unknown };
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import type { WorkflowSpec } from '@skein/domain';
import { guardedRunChangesQuery } from './run-changes';
import { applyPool, applyWorkflow, claimStaleOutbox, createPool, insertOutbox, grantSlots, insertRun, insertSlotWaits, insertTaskRuns, lockRun, lockRunReadingTaskRuns, lockRunsOf, migrate, readRunSnapshot, withTransaction, writeRunChanges, writeRunChangesIf, type OutboxMessage, type RunChanges } from './index';

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

  it('returns undefined for an unknown run or tasks not in it (the caller then locks the run itself)', async () => {
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

  it('writes all of a write\'s outbox messages as one batch row, which the sweep reads back message by message', async () => {
    const messages = ['x', 'y', 'z'].map((m, i): OutboxMessage => ({ subject: `skein.dispatch.q${i}`, msgId: `batch-${m}`, payload: new Uint8Array([i, 255, 0]), headers: i === 1 ? { traceparent: `00-${m}` } : {} }));
    const ids = await writeRunChanges(pool, { ...changes(), outbox: messages, run: { ...changes().run, unfinishedDelta: 0 } });
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    const { rows } = await pool.query<{ n: number; batch: boolean }>('SELECT count(*)::int AS n, bool_and(batch) AS batch FROM outbox WHERE id = $1', [ids[0]]);
    expect(rows[0]).toEqual({ n: 1, batch: true });
    // A row of one message (slot admission, an older scheduler) sits beside it.
    await insertOutbox(pool, [{ subject: 'skein.dispatch.single', msgId: 'single', payload: new Uint8Array([7]), headers: {} }]);
    await pool.query(`UPDATE outbox SET create_time = now() - interval '1 minute'`);
    const stale = await withTransaction(pool, (tx) => claimStaleOutbox(tx, 1000, 100));
    const ofBatch = stale.filter((m) => m.id === ids[0]);
    expect(ofBatch.map(({ id: _id, ...m }) => m)).toEqual(messages);
    expect(stale.find((m) => m.msgId === 'single')).toMatchObject({ subject: 'skein.dispatch.single', payload: new Uint8Array([7]), headers: {} });
    await pool.query('DELETE FROM outbox');
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

describe('the hot-path statement reads only the rows it writes', () => {
  let db: TestDatabase;
  let pool: Pool;
  const TASKS = 1500;
  const task = (i: number) => `t${String(i).padStart(4, '0')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    await applyWorkflow(pool, spec, 'digest-1');
    const addRun = async (id: string, tasks: number) => {
      await insertRun(pool, { id, workflowId: 'locking', workflowVersion: 1, state: 'running', trigger: 'manual', params: {}, logicalDate: new Date(), startTime: new Date(), taskCount: tasks });
      await insertTaskRuns(pool, id, Array.from({ length: tasks }, (_, i) => ({ task: task(i), position: i, state: 'succeeded', currentAttempt: 1, upstreamTotal: 0 })));
      await pool.query(`INSERT INTO attempts (id, run_id, task, number, state) SELECT $1 || '-' || tr.task, tr.run_id, tr.task, 1, 'succeeded' FROM task_runs tr WHERE tr.run_id = $1`, [id]);
    };
    // Statistics from a new database's first small run, kept stale while large runs follow.
    for (const table of ['runs', 'task_runs', 'attempts']) await pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = off)`);
    await addRun('run-small', 20);
    await pool.query('ANALYZE');
    for (const id of ['run-big-1', 'run-big-2']) await addRun(id, TASKS);
    await pool.query(`UPDATE task_runs SET state = 'running' WHERE run_id = 'run-big-1' AND task = $1`, [task(700)]);
    await pool.query(`UPDATE attempts SET state = 'running' WHERE id = $1`, [`run-big-1-${task(700)}`]);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Actual Rows': number; 'Actual Loops': number; Plans?: PlanNode[] }
  const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
  const upstream = (succeeded: number) => ({ total: succeeded, succeeded, failed: 0, upstreamFailed: 0, skipped: 0, cancelled: 0 });
  const label = (n: PlanNode) => `${n['Node Type']} on ${n['Relation Name'] ?? n['Index Name'] ?? '-'}: ${n['Actual Rows'] * n['Actual Loops']} rows`;

  /** `ended` tasks of run-big-1 succeed and `next` is dispatched: the changes, as one event batch writes them. */
  function batch(ended: readonly string[], next: string): RunChanges {
    const now = new Date();
    return {
      runId: 'run-big-1',
      attempts: ended.map((t) => ({ id: `run-big-1-${t}`, state: 'succeeded', exitCode: 0, reason: '', message: '', outputs: null, executor: 'e', startTime: now, endTime: now })),
      newAttempts: [{ id: `run-big-1-${next}-2`, task: next, number: 2, state: 'queued', queueTime: now, reason: '', message: '', endTime: null }],
      taskRuns: [
        ...ended.map((t) => ({ task: t, state: 'succeeded' as const, currentAttempt: 1, failedAttempts: 0, retryAt: null, startTime: now, endTime: now, upstream: upstream(0) })),
        { task: next, state: 'queued', currentAttempt: 2, failedAttempts: 0, retryAt: null, startTime: null, endTime: null, upstream: upstream(ended.length) },
      ],
      outbox: [{ subject: 'skein.dispatch.default', msgId: `run-big-1-${next}-2`, payload: new Uint8Array([1]), headers: {} }],
      run: { unfinishedDelta: -ended.length, failedDelta: 0, cancelledDelta: 0, startedAt: null, end: null },
    };
  }

  /** The plan of the statement as sent (executed, then rolled back). */
  /** The settings of a pool made with `plannedOnce` (the scheduler's hot path). */
  const PLANNED_ONCE = 'planned once';

  async function explain(query: { name?: string; text: string; values: unknown[]; nestedLoops: boolean }, mode?: string): Promise<PlanNode[]> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      if (mode === PLANNED_ONCE) await client.query('SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_nestloop = off');
      else if (mode) await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
      if (!query.nestedLoops) await client.query('SET LOCAL enable_nestloop = off; SET LOCAL plan_cache_mode = force_custom_plan');
      // A prepared statement (EXPLAIN EXECUTE follows plan_cache_mode) or, unnamed, planned for its values.
      let text = `EXPLAIN (ANALYZE, FORMAT JSON) ${query.text}`;
      let values = query.values;
      if (query.name !== undefined) {
        await client.query(`PREPARE hot AS ${query.text}`);
        // A Buffer goes binary as a parameter; as a literal, in bytea's hex form.
        const literal = (v: unknown) => (v === null ? 'NULL' : client.escapeLiteral(Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : String(prepareValue(v))));
        text = `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE hot(${query.values.map(literal).join(', ')})`;
        values = [];
      }
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(text, values);
      return nodes((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
    } finally {
      await client.query('ROLLBACK');
      if (query.name !== undefined) await client.query('DEALLOCATE hot');
      client.release();
    }
  }

  it.each(['force_custom_plan', 'force_generic_plan', PLANNED_ONCE])('one task ends and the next is dispatched (a chain hop), with %s', async (mode) => {
    const snapshot = await readRunSnapshot(pool, 'run-big-1', [task(700), task(701)]);
    const query = guardedRunChangesQuery(batch([task(700)], task(701)), snapshot?.version as string, [task(701), task(702)]);
    expect(query.name).toBeDefined();
    const plan = await explain(query, mode);
    const onTables = plan.filter((n) => ['task_runs', 'attempts'].includes(n['Relation Name'] ?? '') || /^(task_runs|attempts)_/.test(n['Index Name'] ?? ''));
    expect(onTables.length).toBeGreaterThan(0);
    expect(onTables.filter((n) => n['Node Type'] === 'Seq Scan').map(label)).toEqual([]);
    // Two task runs written, two kept, one attempt: no scan returns more than a handful of rows.
    expect(onTables.filter((n) => n['Actual Rows'] * n['Actual Loops'] > 4).map(label)).toEqual([]);
  });

  it('600 tasks end at once and their sink is dispatched (a fan-in), planned for its own arrays, without nested loops', async () => {
    const ended = Array.from({ length: 600 }, (_, i) => task(i));
    await pool.query(`UPDATE attempts SET state = 'running' WHERE id = ANY($1::text[])`, [ended.map((t) => `run-big-1-${t}`)]);
    const snapshot = await readRunSnapshot(pool, 'run-big-1', [task(1400)]);
    const query = guardedRunChangesQuery(batch(ended, task(1400)), snapshot?.version as string, []);
    expect(query.name).toBeUndefined();
    expect(query.nestedLoops).toBe(false);
    // A named statement gets a generic plan from its sixth execution on: explain that one if it is named.
    const plan = await explain(query, query.name === undefined ? undefined : 'force_generic_plan');
    // Linear in the batch: a nested loop over two of its arrays (a plan made for 10-element arrays)
    // would pass 600 × 600 rows.
    const passed = plan.reduce((sum, n) => sum + n['Actual Rows'] * n['Actual Loops'], 0);
    expect({ passed, ok: passed <= 20 * ended.length }).toEqual({ passed, ok: true });
  });

  it('600 tasks end at once (a fan-in) on a planned-once connection: the one generic plan, linear without nested loops', async () => {
    const ended = Array.from({ length: 600 }, (_, i) => task(i));
    await pool.query(`UPDATE attempts SET state = 'running' WHERE id = ANY($1::text[])`, [ended.map((t) => `run-big-1-${t}`)]);
    const snapshot = await readRunSnapshot(pool, 'run-big-1', [task(1400)]);
    const query = { ...guardedRunChangesQuery(batch(ended, task(1400)), snapshot?.version as string, []), name: 'skein-write-run-changes-if', nestedLoops: true };
    const plan = await explain(query, PLANNED_ONCE);
    // Nothing scanned again per row of the batch (the one-row run update may be, by the only join it has).
    expect(plan.filter((n) => n['Actual Loops'] > 1 && n['Actual Rows'] > 1).map(label)).toEqual([]);
    const passed = plan.reduce((sum, n) => sum + n['Actual Rows'] * n['Actual Loops'], 0);
    expect({ passed, ok: passed <= 20 * ended.length }).toEqual({ passed, ok: true });
  });

  it('writes a large batch for real: through a planned-once pool, and inside the caller’s transaction (settings back after)', async () => {
    const hot = createPool(db.url, { max: 2, plannedOnce: true });
    const settings = async (q: Pool) => (await q.query<{ n: string; p: string }>('SELECT current_setting(\'enable_nestloop\') AS n, current_setting(\'plan_cache_mode\') AS p')).rows[0];
    expect(await settings(hot)).toEqual({ n: 'off', p: 'force_generic_plan' });
    const ended = Array.from({ length: 300 }, (_, i) => task(i));
    const snapshot = await readRunSnapshot(hot, 'run-big-1', [task(1401)]);
    const written = await writeRunChangesIf(hot, batch(ended, task(1401)), snapshot?.version as string, []);
    for (let i = 0; i < 3; i++) expect(await settings(hot)).toEqual({ n: 'off', p: 'force_generic_plan' });
    await hot.end();
    expect(written?.outboxIds).toHaveLength(1);
    const states = await pool.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM attempts WHERE id = ANY($1::text[]) GROUP BY state`, [ended.map((t) => `run-big-1-${t}`)]);
    expect(states.rows).toEqual([{ state: 'succeeded', n: 300 }]);
    expect((await readRunSnapshot(pool, 'run-big-1', [task(1401)]))?.taskRuns[0]).toMatchObject({ state: 'queued', currentAttempt: 2 });
    // A stale version writes nothing, large or small.
    expect(await writeRunChangesIf(pool, batch(ended, task(1402)), snapshot?.version as string, [])).toBeUndefined();

    const rest = Array.from({ length: 300 }, (_, i) => task(300 + i));
    const setting = await withTransaction(pool, async (tx) => {
      await writeRunChanges(tx, batch(rest, task(1402)));
      return (await tx.query<{ n: string; p: string }>('SELECT current_setting(\'enable_nestloop\') AS n, current_setting(\'plan_cache_mode\') AS p')).rows[0];
    });
    // Back to the session's own settings (every pool plans a named statement once).
    expect(setting).toEqual({ n: 'on', p: 'force_generic_plan' });
    const after = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM attempts WHERE id = ANY($1::text[]) AND state = 'succeeded'`, [rest.map((t) => `run-big-1-${t}`)]);
    expect(after.rows[0]?.n).toBe(300);
    for (let i = 0; i < 3; i++) expect((await pool.query<{ enable_nestloop: string }>('SHOW enable_nestloop')).rows[0]?.enable_nestloop).toBe('on');
  });
});
