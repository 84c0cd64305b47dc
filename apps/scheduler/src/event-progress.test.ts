import type { Pool } from 'pg';
import pino from 'pino';
import { createInProcessBus, subjects, type Bus, type BusMessage, type ConsumeOptions, type MessageHandler } from '@skein/bus';
import { parseWorkflowFile } from '@skein/domain';
import { TaskEvent } from '@skein/proto';
import { applyWorkflow, createPool, getRun, listRunAttempts, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { Scheduler } from './scheduler';

const logger = pino({ level: 'silent' });

/** The bus, with every delivery to the scheduler's event consumer recorded. */
function recordingDeliveries(bus: Bus, deliveries: number[]): Bus {
  return new Proxy(bus, {
    get(target, key, receiver) {
      if (key !== 'consume') return Reflect.get(target, key, receiver) as unknown;
      return (options: ConsumeOptions, handler: MessageHandler) => target.consume(options, (message: BusMessage) => {
        if (options.stream === 'events') deliveries.push(message.deliveryCount);
        return handler(message);
      });
    },
  });
}

describe('scheduler: events it holds stay in progress', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    const parsed = parseWorkflowFile('apiVersion: skein.dev/v1\nkind: Workflow\nmetadata:\n  name: slow\nspec:\n  tasks:\n    - {name: a, command: ["true"]}\n', 'slow.yaml');
    for (const w of parsed.workflows) await applyWorkflow(pool, w.spec, w.digest);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('does not get an event redelivered while its transaction waits longer than the ack wait', async () => {
    const deliveries: number[] = [];
    const bus = createInProcessBus();
    await bus.ensureStreams();
    let runEnded!: () => void;
    const ended = new Promise<void>((resolve) => { runEnded = resolve; });
    const scheduler = new Scheduler({ pool, bus: recordingDeliveries(bus, deliveries), logger, ackWaitMs: 300, onRunEnded: () => runEnded() });
    await scheduler.start();
    const holder = await pool.connect();
    try {
      const { runId } = await scheduler.createRun({ workflowId: 'slow', params: {}, trigger: 'manual' });
      const [attempt] = await listRunAttempts(pool, runId);
      // Another transaction holds the run's lock: the event's transaction waits for it, for 6 ack waits.
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM runs WHERE id = $1 FOR UPDATE', [runId]);
      const now = new Date();
      await bus.publish(subjects.event(runId), TaskEvent.encode(TaskEvent.fromPartial({
        attemptId: attempt?.id, runId, task: 'a', attempt: 1, executor: 'test', time: now,
        kind: { $case: 'succeeded', succeeded: { startTime: now, endTime: now, exitCode: 0, outputsJson: '' } },
      })).finish(), { msgId: `${attempt?.id}:end` });
      await new Promise((resolve) => setTimeout(resolve, 1800));
      await holder.query('COMMIT');
      await ended;
      expect((await getRun(pool, runId))?.state).toBe('succeeded');
      expect(deliveries).toEqual([1]);
    } finally {
      holder.release();
      await scheduler.stop();
      await bus.close();
    }
  });
});
