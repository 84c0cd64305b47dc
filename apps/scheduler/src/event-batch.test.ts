import type { Pool } from 'pg';
import pino from 'pino';
import { createInProcessBus, EVENT_BATCH_HEADER, subjects, type Bus } from '@skein/bus';
import { parseWorkflowFile } from '@skein/domain';
import { TaskDispatch, TaskEvent, TaskEventBatch } from '@skein/proto';
import { applyWorkflow, createPool, getRun, listRunAttempts, listTaskRuns, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { Scheduler } from './scheduler';

const logger = pino({ level: 'silent' });

describe('scheduler: a TaskEventBatch message', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  let scheduler: Scheduler;
  const ended = new Map<string, () => void>();
  /** Dispatches seen, by `run/task`, and who waits for one. */
  const dispatched = new Map<string, TaskDispatch>();
  const waiters = new Map<string, () => void>();

  function dispatchOf(runId: string, task: string): Promise<TaskDispatch> {
    const key = `${runId}/${task}`;
    const seen = dispatched.get(key);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.set(key, () => resolve(dispatched.get(key) as TaskDispatch)));
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    const yaml = 'apiVersion: skein.dev/v1\nkind: Workflow\nmetadata:\n  name: wide\nspec:\n  tasks:\n' +
      '    - {name: a, command: ["true"]}\n    - {name: b, command: ["true"]}\n    - {name: c, command: ["true"], dependsOn: [a, b]}\n';
    for (const w of parseWorkflowFile(yaml, 'wide.yaml').workflows) await applyWorkflow(pool, w.spec, w.digest);
    bus = createInProcessBus();
    await bus.ensureStreams();
    scheduler = new Scheduler({ pool, bus, logger, onRunEnded: (runId) => ended.get(runId)?.() });
    await scheduler.start();
    await bus.consume({ stream: 'dispatch', durable: 'test-executor' }, async (message) => {
      const d = TaskDispatch.decode(message.data);
      dispatched.set(`${d.runId}/${d.task}`, d);
      waiters.get(`${d.runId}/${d.task}`)?.();
      await message.ack();
    });
  });

  afterAll(async () => {
    await scheduler.stop();
    await bus.close();
    await pool.end();
    await db.drop();
  });

  async function startRun(): Promise<{ runId: string; end: Promise<void> }> {
    const { runId } = await scheduler.createRun({ workflowId: 'wide', params: {}, trigger: 'manual' });
    const end = new Promise<void>((resolve) => ended.set(runId, resolve));
    return { runId, end };
  }

  async function succeeded(runId: string, task: string): Promise<TaskEvent> {
    const attempt = (await listRunAttempts(pool, runId)).find((a) => a.task === task);
    const now = new Date();
    return TaskEvent.fromPartial({
      attemptId: attempt?.id, runId, task, attempt: 1, executor: 'test', time: now,
      kind: { $case: 'succeeded', succeeded: { startTime: now, endTime: now, exitCode: 0, outputsJson: '' } },
    });
  }

  async function publishBatch(subjectRun: string, events: TaskEvent[], msgId: string): Promise<void> {
    await bus.publish(subjects.event(subjectRun), TaskEventBatch.encode({ events }).finish(), { msgId, headers: { [EVENT_BATCH_HEADER]: '1' } });
  }

  it('applies every event of the batch: both upstream tasks end and their downstream task is dispatched', async () => {
    const { runId, end } = await startRun();
    await publishBatch(runId, [await succeeded(runId, 'a'), await succeeded(runId, 'b')], `batch-${runId}`);
    await dispatchOf(runId, 'c');
    const states = Object.fromEntries((await listTaskRuns(pool, runId)).map((t) => [t.task, t.state]));
    expect(states).toEqual({ a: 'succeeded', b: 'succeeded', c: 'queued' });
    await publishBatch(runId, [await succeeded(runId, 'c')], `end-${runId}`);
    await end;
    expect((await getRun(pool, runId))?.state).toBe('succeeded');
  });

  it('applies a batch whose events belong to several runs, each in its own run', async () => {
    const one = await startRun();
    const two = await startRun();
    const events = [await succeeded(one.runId, 'a'), await succeeded(two.runId, 'a'), await succeeded(one.runId, 'b'), await succeeded(two.runId, 'b')];
    await publishBatch(one.runId, events, `batch-${one.runId}-${two.runId}`);
    for (const run of [one.runId, two.runId]) {
      await dispatchOf(run, 'c');
      await publishBatch(run, [await succeeded(run, 'c')], `end-${run}`);
    }
    await Promise.all([one.end, two.end]);
    expect((await getRun(pool, one.runId))?.state).toBe('succeeded');
    expect((await getRun(pool, two.runId))?.state).toBe('succeeded');
  });
});
