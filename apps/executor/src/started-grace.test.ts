import pino from 'pino';
import { createInProcessBus, type Bus } from '@skein/bus';
import { createLocalRuntime } from '@skein/runtime';
import { BusRecorder, makeDispatch, publishDispatch } from './bus-recorder.test-helper';
import { ExecutorOptionsError } from './errors';
import { Executor } from './executor';

const silent = pino({ enabled: false });

describe('Executor: the started grace (startedGraceMs)', () => {
  let bus: Bus;
  let recorder: BusRecorder;
  const executors: Executor[] = [];

  beforeAll(async () => {
    bus = createInProcessBus();
    recorder = await BusRecorder.start(bus);
  });

  afterAll(async () => {
    await Promise.all(executors.map((e) => e.stop({ graceMs: 1000 })));
    await recorder.stop();
    await bus.close();
  });

  async function executor(queue: string, startedGraceMs: number): Promise<void> {
    const created = new Executor({
      bus, logger: silent, identity: `executor-${queue}@host`, queues: [queue], startedGraceMs,
      runtimes: { local: createLocalRuntime({ killGraceMs: 2000 }) },
    });
    executors.push(created);
    await created.start();
  }

  it('reports a task that ends within the grace by its end event alone, carrying its start time', async () => {
    await executor('short', 5000);
    const dispatch = makeDispatch({ queue: 'short', command: ['true'] });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(recorder.eventsOf(dispatch.attemptId).map((e) => e.event.kind?.$case)).toEqual(['succeeded']);
    const kind = end.event.kind;
    if (kind?.$case !== 'succeeded') throw new Error(`expected succeeded, got ${kind?.$case}`);
    expect(kind.succeeded.startTime).toBeInstanceOf(Date);
    expect(kind.succeeded.startTime?.getTime()).toBeLessThanOrEqual(kind.succeeded.endTime?.getTime() ?? 0);
    // The task's log still says where it started.
    const lines = await recorder.log(dispatch.attemptId);
    expect(lines[0]?.text).toBe('attempt 1 started on executor executor-short@host');
  });

  it('reports the start of a task still running after the grace, before its end', async () => {
    await executor('long', 50);
    const dispatch = makeDispatch({ queue: 'long', command: ['sh', '-c', 'sleep 2'] });
    await publishDispatch(bus, dispatch);
    await recorder.until(() => recorder.eventsOf(dispatch.attemptId).find((e) => e.event.kind?.$case === 'started'), 'started');
    await recorder.terminal(dispatch.attemptId);
    expect(recorder.eventsOf(dispatch.attemptId).map((e) => e.event.kind?.$case)).toEqual(['started', 'succeeded']);
  });

  it('rejects a grace out of range, naming the option', () => {
    expect(() => new Executor({ bus, logger: silent, runtimes: { local: createLocalRuntime() }, startedGraceMs: -1 }))
      .toThrow(new ExecutorOptionsError('startedGraceMs must be between 0 and 10000, got -1'));
  });
});
