import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import type { WorkflowSpec } from '@skein/domain';
import {
  applyWorkflow, claimStaleOutbox, createPool, deleteOutbox, getLogStatus, getRun, insertAttempts, insertLogLines,
  insertOutbox, insertRun, insertTaskRuns, listRunAttempts, listRuns, listTaskRuns, listWorkflows, loadMigrations, lockRun, migrate,
  readLogLines, readTaskRuns, recordLogProgress, withTransaction, writeRunChanges, type RunChanges,
} from './index';

function spec(name: string, command = 'true'): WorkflowSpec {
  return {
    apiVersion: 'skein.dev/v1', kind: 'Workflow', metadata: { name, labels: { team: 'data' } },
    spec: {
      timezone: 'UTC', catchup: false, params: {},
      tasks: [{ name: 'a', command: [command], args: [], env: [], dependsOn: [], retries: 0, retryDelayMs: 0, timeoutMs: 0, queue: 'default', triggerRule: 'allSuccess' }],
    },
  } as WorkflowSpec;
}

describe('store', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('applies migrations once, also when started concurrently', async () => {
    const again = await Promise.all([migrate(pool), migrate(pool)]);
    expect(again).toEqual([[], []]);
    const { rows } = await pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
  });

  it('versions a workflow only when its spec changes', async () => {
    const first = await applyWorkflow(pool, spec('etl'), 'd1');
    expect(first.created).toBe(true);
    expect(first.workflow.currentVersion).toBe(1);
    const same = await applyWorkflow(pool, spec('etl'), 'd1');
    expect(same.created).toBe(false);
    expect(same.version.version).toBe(1);
    const changed = await applyWorkflow(pool, spec('etl', 'false'), 'd2');
    expect(changed.created).toBe(true);
    expect(changed.workflow.currentVersion).toBe(2);
    expect(changed.workflow.spec.spec.tasks[0]?.command).toEqual(['false']);
    expect(changed.workflow.labels).toEqual({ team: 'data' });
  });

  it('keeps concurrent applies of the same workflow consistent', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => applyWorkflow(pool, spec('race'), 'same')));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.workflow.currentVersion))).toEqual(new Set([1]));
  });

  it('pages workflows by id', async () => {
    const page1 = await listWorkflows(pool, { limit: 1 });
    const page2 = await listWorkflows(pool, { limit: 10, afterId: page1[0]?.id });
    expect(page1.map((w) => w.id)).toEqual(['etl']);
    expect(page2.map((w) => w.id)).toEqual(['race']);
  });

  it('stores runs, task runs and attempts, and writes a transaction\'s changes in one statement', async () => {
    const run = await withTransaction(pool, async (tx) => {
      const r = await insertRun(tx, { id: 'run1', workflowId: 'etl', workflowVersion: 1, state: 'queued', trigger: 'manual', params: { x: 1 }, logicalDate: new Date(), startTime: null, taskCount: 2 });
      await insertTaskRuns(tx, r.id, [
        { task: 'a', position: 0, state: 'queued', currentAttempt: 1, upstreamTotal: 0 },
        { task: 'b', position: 1, state: 'pending', currentAttempt: 0, upstreamTotal: 1 },
      ]);
      await insertAttempts(tx, r.id, [{ id: 'att1', task: 'a', number: 1, queueTime: new Date() }]);
      return r;
    });
    expect(run).toMatchObject({ params: { x: 1 }, unfinishedTasks: 2, failedTasks: 0 });
    const zero = { total: 1, succeeded: 0, failed: 0, upstreamFailed: 0, skipped: 0, cancelled: 0 };
    const now = new Date();
    const changes: RunChanges = {
      runId: 'run1',
      attempts: [{ id: 'att1', state: 'succeeded', exitCode: 0, reason: '', message: '', outputs: { rows: 3 }, executor: 'ex1', startTime: now, endTime: now }],
      newAttempts: [{ id: 'att2', task: 'b', number: 1, state: 'queued', queueTime: now, reason: '', message: '', endTime: null }],
      taskRuns: [
        { task: 'a', state: 'succeeded', currentAttempt: 1, failedAttempts: 0, retryAt: null, startTime: now, endTime: now, upstream: { ...zero, total: 0 } },
        { task: 'b', state: 'queued', currentAttempt: 1, failedAttempts: 0, retryAt: null, startTime: null, endTime: null, upstream: { ...zero, succeeded: 1 } },
      ],
      outbox: [
        { subject: 's.1', msgId: 'att2', payload: new Uint8Array([7]), headers: {} },
        { subject: 's.1', msgId: 'other', payload: new Uint8Array([8]), headers: { h: 'v' } },
      ],
      run: { unfinishedDelta: -1, failedDelta: 0, cancelledDelta: 0, startedAt: now, end: null },
    };
    const ids = await withTransaction(pool, async (tx) => {
      await lockRun(tx, 'run1');
      return writeRunChanges(tx, changes);
    });
    // One row (a batch) holds both messages: each is given its id.
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
    // A repeated write changes no attempt that already ended.
    await writeRunChanges(pool, { ...changes, attempts: [{ ...changes.attempts[0]!, state: 'failed' }], newAttempts: [], outbox: [], taskRuns: [],
      run: { ...changes.run, unfinishedDelta: 0 } });
    const attempts = await listRunAttempts(pool, 'run1');
    expect(attempts.map((a) => [a.id, a.state, a.outputs])).toEqual([['att1', 'succeeded', { rows: 3 }], ['att2', 'queued', null]]);
    expect((await readTaskRuns(pool, 'run1', ['b']))[0]).toMatchObject({ state: 'queued', currentAttempt: 1, upstream: { total: 1, succeeded: 1 } });
    expect((await listTaskRuns(pool, 'run1')).map((t) => [t.task, t.state])).toEqual([['a', 'succeeded'], ['b', 'queued']]);
    expect(await getRun(pool, 'run1')).toMatchObject({ state: 'running', unfinishedTasks: 1 });
    await writeRunChanges(pool, { ...changes, attempts: [], newAttempts: [], outbox: [], taskRuns: [],
      run: { unfinishedDelta: -1, failedDelta: 1, cancelledDelta: 0, startedAt: null, end: { state: 'failed', time: now, reason: 'b failed' } } });
    expect(await getRun(pool, 'run1')).toMatchObject({ state: 'failed', unfinishedTasks: 0, failedTasks: 1, reason: 'b failed' });
    await deleteOutbox(pool, ids);
  });

  it('pages runs created in the same millisecond without skipping any', async () => {
    await withTransaction(pool, async (tx) => {
      for (const id of ['same-a', 'same-b', 'same-c']) {
        await insertRun(tx, { id, workflowId: 'race', workflowVersion: 1, state: 'queued', trigger: 'api', params: {}, logicalDate: new Date(), startTime: null, taskCount: 0 });
      }
    });
    const seen: string[] = [];
    let after: { createTime: Date; id: string } | undefined;
    for (;;) {
      const page = await listRuns(pool, { workflowId: 'race', limit: 1, after });
      const last = page[0];
      if (!last) break;
      seen.push(last.id);
      after = { createTime: last.createTime, id: last.id };
    }
    expect(seen).toEqual(['same-c', 'same-b', 'same-a']);
  });

  it('pages runs newest first with a cursor', async () => {
    for (const id of ['run2', 'run3']) {
      await insertRun(pool, { id, workflowId: 'etl', workflowVersion: 2, state: 'queued', trigger: 'api', params: {}, logicalDate: new Date(), startTime: null, taskCount: 0 });
    }
    const first = await listRuns(pool, { workflowId: 'etl', limit: 2 });
    const last = first[first.length - 1];
    const rest = await listRuns(pool, { workflowId: 'etl', limit: 2, after: last && { createTime: last.createTime, id: last.id } });
    expect([...first, ...rest].map((r) => r.id).sort()).toEqual(['run1', 'run2', 'run3']);
    expect(rest).toHaveLength(1);
  });

  it('stores log lines once and knows when a log is complete', async () => {
    const line = (sequence: number) => ({ sequence, stream: 1 as const, time: new Date(), text: `line ${sequence} \u0000 ok` });
    const added = await insertLogLines(pool, 'att1', [line(1), line(2)]);
    await recordLogProgress(pool, 'att1', added, null);
    const again = await insertLogLines(pool, 'att1', [line(2), line(3)]);
    expect(again).toBe(1);
    await recordLogProgress(pool, 'att1', again, 3);
    expect(await getLogStatus(pool, 'att1')).toEqual({ storedCount: 3, finalCount: 3, complete: true });
    const lines = await readLogLines(pool, 'att1', 1, 10);
    expect(lines.map((l) => l.sequence)).toEqual([2, 3]);
    expect(lines[0]?.text).toBe('line 2 \uFFFD ok');
    expect(await getLogStatus(pool, 'nope')).toEqual({ storedCount: 0, finalCount: null, complete: false });
  });

  it('keeps outbox messages until deleted and lets one relay claim stale ones', async () => {
    const ids = await insertOutbox(pool, [{ subject: 's.1', msgId: 'm1', payload: new Uint8Array([1, 2]), headers: { a: 'b' } }]);
    expect(ids).toHaveLength(1);
    const claimed = await withTransaction(pool, (tx) => claimStaleOutbox(tx, 0, 10));
    expect(claimed.map((m) => [m.msgId, [...m.payload], m.headers])).toEqual([['m1', [1, 2], { a: 'b' }]]);
    await deleteOutbox(pool, ids);
    expect(await withTransaction(pool, (tx) => claimStaleOutbox(tx, 0, 10))).toEqual([]);
  });
});
