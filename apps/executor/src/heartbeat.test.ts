import pino from 'pino';
import { createInProcessBus, subjects, type Bus } from '@skein/bus';
import { ExecutorHeartbeat, TaskDispatch } from '@skein/proto';
import { createLocalRuntime } from '@skein/runtime';
import { Executor } from './executor';

describe('executor heartbeats', () => {
  let bus: Bus;
  let executor: Executor;

  beforeEach(async () => {
    bus = createInProcessBus();
    await bus.ensureStreams();
    executor = new Executor({ bus, logger: pino({ level: 'silent' }), runtimes: { local: createLocalRuntime() }, identity: 'beat-test', heartbeatMs: 50 });
    await executor.start();
  });

  afterEach(async () => {
    await executor.stop({ graceMs: 5000 });
    await bus.close();
  });

  it('names the attempts it runs, and stops naming them when they end', async () => {
    const beats: ExecutorHeartbeat[] = [];
    const subscription = bus.subscribeCore(subjects.allHeartbeats, (_subject, data) => beats.push(ExecutorHeartbeat.decode(data)));
    const dispatch = TaskDispatch.fromPartial({
      attemptId: 'hb-attempt-1', runId: 'hb-run', workflow: 'w', task: 't', attempt: 1, queue: 'default',
      command: ['sh', '-c', 'sleep 0.4'], logicalDate: new Date(), dispatchTime: new Date(),
    });
    await bus.publish(subjects.dispatch('default'), TaskDispatch.encode(dispatch).finish(), { msgId: dispatch.attemptId });
    for (let i = 0; i < 200 && !beats.some((b) => b.attemptIds.includes('hb-attempt-1')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(beats.find((b) => b.attemptIds.includes('hb-attempt-1'))).toMatchObject({ executor: 'beat-test' });
    for (let i = 0; i < 200 && executor.activeCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const after = beats.length;
    for (let i = 0; i < 100 && beats.length < after + 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(beats.slice(after).every((b) => b.attemptIds.length === 0)).toBe(true);
    await subscription.drain();
  });

  it('names an attempt started since the last beat at the next tick of the ack wait, not only at the next beat', async () => {
    await executor.stop({ graceMs: 5000 });
    // Beats every 10 s; the ack-wait tick every 100 ms.
    executor = new Executor({ bus, logger: pino({ level: 'silent' }), runtimes: { local: createLocalRuntime() }, identity: 'beat-early', heartbeatMs: 10_000, ackWaitMs: 300 });
    await executor.start();
    const beats: ExecutorHeartbeat[] = [];
    const subscription = bus.subscribeCore(subjects.allHeartbeats, (_subject, data) => beats.push(ExecutorHeartbeat.decode(data)));
    const dispatch = TaskDispatch.fromPartial({
      attemptId: 'hb-early-1', runId: 'hb-run', workflow: 'w', task: 't', attempt: 1, queue: 'default',
      command: ['sh', '-c', 'sleep 0.6'], logicalDate: new Date(), dispatchTime: new Date(),
    });
    const sent = Date.now();
    await bus.publish(subjects.dispatch('default'), TaskDispatch.encode(dispatch).finish(), { msgId: dispatch.attemptId });
    for (let i = 0; i < 100 && !beats.some((b) => b.attemptIds.includes('hb-early-1')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(beats.find((b) => b.attemptIds.includes('hb-early-1'))).toMatchObject({ executor: 'beat-early' });
    expect(Date.now() - sent).toBeLessThan(1000);
    // Named once: the ticks that follow see nothing new.
    const named = beats.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(beats.length).toBe(named);
    await subscription.drain();
  });
});
