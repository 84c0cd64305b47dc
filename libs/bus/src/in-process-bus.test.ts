import { describeBusConformance } from './bus-conformance';
import { createInProcessBus } from './in-process-bus';

describeBusConformance('in-process', async () => {
  const bus = createInProcessBus();
  return { bus, cleanup: () => bus.close() };
});

describe('in-process bus timers', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('leaves no timer behind after close (ack wait and nak delay)', async () => {
    // Microtasks stay real: dispatch runs on them, and it must not depend on timers.
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    const bus = createInProcessBus();
    await bus.ensureStreams();
    let calls = 0;
    await bus.consume({ stream: 'dispatch', durable: 'timers', filterSubject: 'skein.dispatch.timers', ackWaitMs: 1_000 }, async (m) => {
      calls++;
      if (m.subject.endsWith('.timers')) m.nak(60_000);
    });
    await bus.consume({ stream: 'dispatch', durable: 'timers-pending', filterSubject: 'skein.dispatch.pending', ackWaitMs: 1_000 }, async () => {
      calls++;
    });
    await bus.publish('skein.dispatch.timers', new Uint8Array([1]));
    await bus.publish('skein.dispatch.pending', new Uint8Array([2]));
    for (let i = 0; i < 10 && calls < 2; i++) await Promise.resolve();
    expect(calls).toBe(2);
    expect(jest.getTimerCount()).toBe(2);
    await bus.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('redelivers on ack-wait expiry without any other timer', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    const bus = createInProcessBus();
    await bus.ensureStreams();
    const counts: number[] = [];
    await bus.consume({ stream: 'dispatch', durable: 'expiry', filterSubject: 'skein.dispatch.expiry', ackWaitMs: 1_000 }, async (m) => {
      counts.push(m.deliveryCount);
      if (m.deliveryCount === 2) await m.ack();
    });
    await bus.publish('skein.dispatch.expiry', new Uint8Array([1]));
    await jest.advanceTimersByTimeAsync(999);
    expect(counts).toEqual([1]);
    await jest.advanceTimersByTimeAsync(1);
    expect(counts).toEqual([1, 2]);
    await bus.close();
    expect(jest.getTimerCount()).toBe(0);
  });
});
