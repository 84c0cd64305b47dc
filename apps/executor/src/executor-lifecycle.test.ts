import pino from 'pino';
import { BusError, createInProcessBus, createNatsBus, subjects, type Bus, type BusMessage } from '@skein/bus';
import { ExecutorHeartbeat, LogLineStream } from '@skein/proto';
import { createLocalRuntime, createNoopRuntime } from '@skein/runtime';
import { startNatsServer } from '@skein/testing';
import { BusRecorder, makeDispatch, publishDispatch, type RecordedEvent } from './bus-recorder.test-helper';
import { ExecutorOptionsError, ExecutorStateError } from './errors';
import { Executor } from './executor';
import type { ExecutorOptions } from './executor-options';
import type { ExecutorState } from './executor-state';

const silent = pino({ enabled: false });

interface BusFixture {
  readonly bus: Bus;
  close(): Promise<void>;
}

const buses: [string, () => Promise<BusFixture>][] = [
  ['in-process bus', async () => {
    const bus = createInProcessBus();
    return { bus, close: () => bus.close() };
  }],
  ['NATS bus', async () => {
    const server = await startNatsServer();
    const bus = await createNatsBus({ servers: server.url, name: 'executor-lifecycle-test', logger: silent });
    return { bus, close: async () => { await bus.close(); await server.stop(); } };
  }],
];

describe.each(buses)('Executor lifecycle on the %s', (_name, makeBus) => {
  let fixture: BusFixture;
  let bus: Bus;
  let recorder: BusRecorder;
  const executors: Executor[] = [];

  beforeAll(async () => {
    fixture = await makeBus();
    bus = fixture.bus;
    recorder = await BusRecorder.start(bus);
  });

  afterAll(async () => {
    await Promise.all(executors.map((e) => e.stop({ graceMs: 1000 })));
    await recorder?.stop();
    await fixture?.close();
  });

  function executor(queue: string, options: Partial<ExecutorOptions> = {}): Executor {
    const created = new Executor({
      bus, logger: silent, identity: `executor-${queue}@host`, queues: [queue],
      runtimes: { local: createLocalRuntime({ killGraceMs: 2000 }), noop: createNoopRuntime() },
      ...options,
    });
    executors.push(created);
    return created;
  }

  it('stop() takes no more dispatches and lets running tasks finish', async () => {
    const states: ExecutorState[] = [];
    const subject = executor('drain', { onStateChange: (state) => { states.push(state); recorder.wake(); } });
    await subject.start();
    const dispatch = makeDispatch({ queue: 'drain', command: ['sh', '-c', 'echo started; sleep 0.3; echo finished'] });
    await publishDispatch(bus, dispatch);
    await recorder.until(() => recorder.eventsOf(dispatch.attemptId).find((e) => e.event.kind?.$case === 'started'), 'started');
    expect(subject.activeCount).toBe(1);
    await subject.stop({ graceMs: 20_000 });
    expect(states).toEqual(['starting', 'running', 'stopping', 'draining', 'stopped']);
    expect(subject.activeCount).toBe(0);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind?.$case).toBe('succeeded');
    expect(recorder.eventsOf(dispatch.attemptId).map((e) => e.event.kind?.$case)).toEqual(['started', 'succeeded']);

    // A dispatch published after stop waits for the next executor of its queue.
    const next = makeDispatch({ queue: 'drain', command: ['true'] });
    await publishDispatch(bus, next);
    const successor = executor('drain', { identity: 'successor@host' });
    await successor.start();
    expect((await recorder.terminal(next.attemptId)).event.executor).toBe('successor@host');
  });

  it('cancels what is still running when the shutdown grace ends, and reports it LOST', async () => {
    const subject = executor('grace');
    await subject.start();
    const dispatch = makeDispatch({ queue: 'grace', command: ['sleep', '60'] });
    await publishDispatch(bus, dispatch);
    await recorder.until(() => recorder.eventsOf(dispatch.attemptId).find((e) => e.event.kind?.$case === 'started'), 'started');
    await subject.stop({ graceMs: 200 });
    expect(subject.state).toBe('stopped');
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'LOST' } });
    expect(end.event.kind?.$case === 'failed' && end.event.kind.failed.message).toMatch(/stopped \(its shutdown grace of 200ms elapsed\)/);
  });

  /**
   * Hands a dispatch to a stand-in for an executor that dies: it takes the dispatch on the queue's
   * durable, stops consuming, and gives the message back, so the broker delivers it again.
   */
  async function deliverThroughDeadExecutor(queue: string, dispatch: ReturnType<typeof makeDispatch>, options: Partial<ExecutorOptions> = {}): Promise<Executor> {
    let received!: () => void;
    const got = new Promise<void>((resolve) => { received = resolve; });
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    const dead = await bus.consume({ stream: 'dispatch', durable: `executors-${queue}`, filterSubject: subjects.dispatch(queue) }, async (message: BusMessage) => {
      received();
      await released;
      message.nak();
    });
    await publishDispatch(bus, dispatch);
    await got;
    const drained = dead.drain();
    const survivor = executor(queue, options);
    await survivor.start();
    release();
    await drained;
    return survivor;
  }

  /** When the executor reported the attempt lost (its `failed` event's end time). */
  const lostAt = (end: RecordedEvent): number => (end.event.kind?.$case === 'failed' ? end.event.kind.failed.endTime?.getTime() ?? Number.NaN : Number.NaN);
  // Heartbeats every 100 ms: an attempt nobody has named for 300 ms is taken for lost.
  const quickLoss: Partial<ExecutorOptions> = { heartbeatMs: 100, lostAfterMs: 300 };

  it('reports LOST for a redelivered dispatch whose process died with another executor', async () => {
    const dispatch = makeDispatch({ queue: 'lost', command: ['sh', '-c', 'echo must not run'], dispatchTime: new Date(Date.now() - 120_000) });
    const startedAt = Date.now();
    await deliverThroughDeadExecutor('lost', dispatch, quickLoss);
    const end = await recorder.terminal(dispatch.attemptId);
    // Not before the survivor had listened to heartbeats for lostAfterMs: until then it could not know.
    expect(lostAt(end) - startedAt).toBeGreaterThanOrEqual(300);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'LOST' } });
    expect(recorder.eventsOf(dispatch.attemptId).map((e) => e.event.kind?.$case)).toEqual(['failed']);
    const lines = await recorder.log(dispatch.attemptId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ sequence: 1, stream: LogLineStream.LOG_LINE_STREAM_SYSTEM });
    expect(lines[0]?.text).toMatch(/^attempt 1 was lost: its process ran on an executor that stopped before the attempt ended/);
  });

  it('hands back a redelivered dispatch while a heartbeat names its attempt, and reports it LOST once they stop', async () => {
    const dispatch = makeDispatch({ queue: 'cut-off', command: ['sh', '-c', 'echo must not run'], dispatchTime: new Date(Date.now() - 120_000) });
    // Another executor, cut off from the dispatch stream for a while, still names the attempt.
    const beat = () => bus.publishCore(subjects.heartbeat('executor-elsewhere@host'),
      ExecutorHeartbeat.encode(ExecutorHeartbeat.fromPartial({ executor: 'executor-elsewhere@host', attemptIds: [dispatch.attemptId], time: new Date() })).finish());
    const beating = setInterval(beat, 50);
    try {
      await deliverThroughDeadExecutor('cut-off', dispatch, quickLoss);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(recorder.eventsOf(dispatch.attemptId)).toEqual([]);
    } finally {
      clearInterval(beating);
    }
    const silentSince = Date.now();
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'LOST' } });
    expect(lostAt(end) - silentSince).toBeGreaterThanOrEqual(200);
  });

  it('runs a dispatch handed back sooner than the ack wait: it never started', async () => {
    const dispatch = makeDispatch({ queue: 'handed-back', command: ['sh', '-c', 'echo ran'] });
    await deliverThroughDeadExecutor('handed-back', dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event.kind?.$case).toBe('succeeded');
  });

  it('hands a dispatch back when its outcome cannot be published, and the next delivery reports it LOST', async () => {
    let failures = 0;
    // The real bus, except that the first terminal event is refused.
    const flaky: Bus = {
      ensureStreams: () => bus.ensureStreams(),
      publish: (subject, data, options) => {
        if (options?.msgId?.endsWith(':end') && failures === 0) {
          failures += 1;
          return Promise.reject(new BusError('PUBLISH_REJECTED', 'refused by the test'));
        }
        return bus.publish(subject, data, options);
      },
      consume: (options, handler) => bus.consume(options, handler),
      publishCore: (subject, data, headers) => bus.publishCore(subject, data, headers),
      subscribeCore: (subject, handler) => bus.subscribeCore(subject, handler),
      close: () => Promise.resolve(),
    };
    const subject = executor('give-back', { bus: flaky, ackWaitMs: 300, ...quickLoss });
    await subject.start();
    const dispatch = makeDispatch({ queue: 'give-back', command: ['true'] });
    await publishDispatch(bus, dispatch);
    const end = await recorder.terminal(dispatch.attemptId);
    expect(failures).toBe(1);
    expect(end.event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'LOST' } });
    expect(recorder.eventsOf(dispatch.attemptId).map((e) => e.event.kind?.$case)).toEqual(['started', 'failed']);
  });

  it('refuses to start twice and stops an executor that never started', async () => {
    const subject = executor('twice');
    await subject.start();
    await expect(subject.start()).rejects.toBeInstanceOf(ExecutorStateError);
    await subject.stop();
    const idle = executor('idle');
    await idle.stop();
    expect(idle.state).toBe('stopped');
  });

  it('rejects options that cannot work', () => {
    expect(() => new Executor({ bus, logger: silent, runtimes: {} })).toThrow(ExecutorOptionsError);
    expect(() => new Executor({ bus, logger: silent, runtimes: { noop: createNoopRuntime() }, defaultRuntime: 'local' }))
      .toThrow(/defaultRuntime "local" is not one of the executor's runtimes \(noop\)/);
    expect(() => new Executor({ bus, logger: silent, runtimes: { noop: createNoopRuntime() }, queues: ['a.b'] })).toThrow(/queue "a.b"/);
    expect(() => new Executor({ bus, logger: silent, runtimes: { noop: createNoopRuntime() }, capacity: 0 })).toThrow(/capacity/);
    expect(() => new Executor({ bus, logger: silent, runtimes: { noop: createNoopRuntime() }, heartbeatMs: 1000, lostAfterMs: 500 }))
      .toThrow('lostAfterMs must be at least heartbeatMs (1000), got 500: an attempt would be taken for lost between two heartbeats');
  });
});
