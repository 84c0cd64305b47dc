import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import type { WorkflowSpec } from '@skein/domain';
import { applyWorkflow, createPool, decodeOutboxBatch, insertOutbox, insertRunWithChanges, listTaskRuns, migrate, type NewRunWrite, type TaskRunWrite } from './index';

const spec = {
  apiVersion: 'skein.dev/v1', kind: 'Workflow', metadata: { name: 'creating', labels: {} },
  spec: {
    timezone: 'UTC', catchup: false, params: {},
    tasks: ['a', 'b', 'c'].map((name) => ({ name, command: ['true'], args: [], env: [], dependsOn: [], retries: 0, retryDelayMs: 0, timeoutMs: 0, queue: 'default', triggerRule: 'allSuccess' })),
  },
} as unknown as WorkflowSpec;

const counts = (total: number) => ({ total, succeeded: 0, failed: 0, upstreamFailed: 0, skipped: 0, cancelled: 0 });
const taskRun = (task: string, fields: Partial<TaskRunWrite> = {}): TaskRunWrite => ({
  task, state: 'pending', currentAttempt: 0, failedAttempts: 0, retryAt: null, startTime: null, endTime: null, upstream: counts(0), ...fields,
});

describe('insertRunWithChanges', () => {
  let db: TestDatabase;
  let pool: Pool;
  const now = new Date('2026-11-21T20:00:00.000Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    await applyWorkflow(pool, spec, 'digest-1');
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const write = (id: string, fields: Partial<NewRunWrite> = {}): NewRunWrite => ({
    run: { id, workflowId: 'creating', workflowVersion: 1, trigger: 'manual', params: { day: '2026-11-21' }, logicalDate: now, traceparent: '', taskCount: 3 },
    taskRuns: [
      taskRun('a', { state: 'queued', currentAttempt: 1 }),
      taskRun('b', { state: 'queued', currentAttempt: 1 }),
      taskRun('c', { upstream: counts(2) }),
    ],
    newAttempts: ['a', 'b'].map((task) => ({ id: `${id}-${task}-1`, task, number: 1, state: 'queued' as const, queueTime: now, reason: '', message: '', endTime: null })),
    outbox: ['a', 'b'].map((task) => ({ subject: 'skein.dispatch.default', msgId: `${id}-${task}-1`, payload: new Uint8Array([1, 2, 3]), headers: {} })),
    counters: { unfinishedDelta: 0, failed: 0, cancelled: 0 },
    end: null,
    deadline: null,
    ...fields,
  });

  it('writes the run, every task run in order, the first attempts and one outbox row holding their dispatches, in one statement', async () => {
    const deadline = new Date(now.getTime() + 60_000);
    const created = await insertRunWithChanges(pool, write('run-1', { deadline }));
    expect(created?.run).toMatchObject({
      id: 'run-1', workflowId: 'creating', workflowVersion: 1, state: 'queued', trigger: 'manual', params: { day: '2026-11-21' }, logicalDate: now,
      startTime: null, endTime: null, reason: '', unfinishedTasks: 3, failedTasks: 0, cancelledTasks: 0, admitted: true, backfill: null,
    });
    expect((await pool.query('SELECT deadline FROM runs WHERE id = $1', ['run-1'])).rows[0]).toEqual({ deadline });
    expect((await listTaskRuns(pool, 'run-1')).map((t) => [t.task, t.position, t.state, t.currentAttempt, t.upstream.total])).toEqual([
      ['a', 0, 'queued', 1, 0], ['b', 1, 'queued', 1, 0], ['c', 2, 'pending', 0, 2],
    ]);
    const attempts = await pool.query('SELECT id, task, number, state FROM attempts WHERE run_id = $1 ORDER BY id', ['run-1']);
    expect(attempts.rows).toEqual([{ id: 'run-1-a-1', task: 'a', number: 1, state: 'queued' }, { id: 'run-1-b-1', task: 'b', number: 1, state: 'queued' }]);
    const [outboxId] = created?.outboxIds ?? [];
    expect(created?.outboxIds).toEqual([outboxId, outboxId]);
    const row = await pool.query<{ payload: Buffer; batch: boolean }>('SELECT payload, batch FROM outbox WHERE id = $1', [outboxId]);
    expect(row.rows[0]?.batch).toBe(true);
    expect(decodeOutboxBatch(row.rows[0]?.payload as Buffer).map((m) => m.msgId)).toEqual(['run-1-a-1', 'run-1-b-1']);
  });

  it('writes a run that waits for a slot (not admitted) with its task runs and nothing to dispatch', async () => {
    const base = write('run-waiting');
    const created = await insertRunWithChanges(pool, {
      ...base, run: { ...base.run, admitted: false, backfill: { id: 'bf-1', maxActive: 2 } }, taskRuns: base.taskRuns.map((t) => ({ ...t, state: 'pending', currentAttempt: 0 })),
      newAttempts: [], outbox: [],
    });
    expect(created).toEqual({ run: expect.objectContaining({ state: 'queued', admitted: false, backfill: { id: 'bf-1', maxActive: 2 } }), outboxIds: [] });
    expect(await listTaskRuns(pool, 'run-waiting')).toHaveLength(3);
  });

  it('writes a run that ended as it was created (every task skipped) with its end, counters and start', async () => {
    const base = write('run-skipped');
    const created = await insertRunWithChanges(pool, {
      ...base, taskRuns: base.taskRuns.map((t) => ({ ...t, state: 'skipped', endTime: now })), newAttempts: [], outbox: [],
      counters: { unfinishedDelta: -3, failed: 0, cancelled: 0 }, end: { state: 'succeeded', time: now, reason: '' },
    });
    expect(created?.run).toMatchObject({ state: 'succeeded', startTime: now, endTime: now, unfinishedTasks: 0 });
  });

  it('writes nothing for a scheduled run that already exists, and still deletes the sent outbox rows it was handed', async () => {
    const scheduled = (id: string, sent: number[] = []) => {
      const base = write(id, { deleteOutbox: sent });
      return { ...base, run: { ...base.run, trigger: 'schedule' }, newAttempts: base.newAttempts, outbox: base.outbox };
    };
    expect(await insertRunWithChanges(pool, scheduled('run-scheduled-1'))).toBeDefined();
    const [sent] = await insertOutbox(pool, [{ subject: 'skein.dispatch.default', msgId: 'sent-1', payload: new Uint8Array([9]), headers: {} }]);
    expect(await insertRunWithChanges(pool, scheduled('run-scheduled-2', [sent as number]))).toBeUndefined();
    const counts2 = await pool.query(`SELECT (SELECT count(*) FROM runs WHERE id = 'run-scheduled-2')::int AS runs,
      (SELECT count(*) FROM task_runs WHERE run_id = 'run-scheduled-2')::int AS task_runs,
      (SELECT count(*) FROM attempts WHERE run_id = 'run-scheduled-2')::int AS attempts,
      (SELECT count(*) FROM outbox WHERE id = $1)::int AS sent`, [sent]);
    expect(counts2.rows[0]).toEqual({ runs: 0, task_runs: 0, attempts: 0, sent: 0 });
  });

  it('rejects an attempt of a task the run does not have (the foreign key holds within the one statement)', async () => {
    const base = write('run-bad');
    await expect(insertRunWithChanges(pool, { ...base, newAttempts: [{ ...base.newAttempts[0]!, task: 'zz' }] })).rejects.toThrow(/attempts_run_id_task_fkey/);
    expect((await pool.query(`SELECT count(*)::int AS n FROM runs WHERE id = 'run-bad'`)).rows[0]).toEqual({ n: 0 });
  });
});
