import pino from 'pino';
import { createInProcessBus, type Bus, type BusMessage, type ConsumeOptions, type MessageHandler, type PublishOptions } from '@skein/bus';
import { createNoopRuntime } from '@skein/runtime';
import { BusRecorder, makeDispatch, publishDispatch } from './bus-recorder.test-helper';
import { Executor } from './executor';

const silent = pino({ enabled: false });

/**
 * The in-process bus, with the first publish of a task event held until `release()`, and the
 * dispatches handed to the executor counted: so a test knows when events are waiting behind it.
 */
function gatedBus(bus: Bus): { bus: Bus; release: () => void; handled: () => number; eventPublishes: () => number } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let held = false;
  let handled = 0;
  let eventPublishes = 0;
  const gated = new Proxy(bus, {
    get(target, key, receiver) {
      if (key === 'publish') {
        return async (subject: string, data: Uint8Array, options?: PublishOptions) => {
          if (subject.startsWith('skein.events.')) {
            eventPublishes += 1;
            if (!held) {
              held = true;
              await gate;
            }
          }
          return target.publish(subject, data, options);
        };
      }
      if (key === 'consume') {
        return (options: ConsumeOptions, handler: MessageHandler) => target.consume(options, (message: BusMessage) => {
          if (options.stream === 'dispatch') handled += 1;
          return handler(message);
        });
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { bus: gated, release, handled: () => handled, eventPublishes: () => eventPublishes };
}

/** Lets the event loop turn until `done()` (the batcher sends at the end of a turn). */
async function turnsUntil(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10_000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!done()) throw new Error(`never: ${what}`);
}

describe('Executor: task events of a run are batched', () => {
  it('sends the events of one turn as one message, and those that came behind a publish in flight as the next, in order', async () => {
    const bus = createInProcessBus();
    const recorder = await BusRecorder.start(bus);
    const gated = gatedBus(bus);
    const executor = new Executor({ bus: gated.bus, logger: silent, identity: 'executor-batch@host', capacity: 32, runtimes: { noop: createNoopRuntime() } });
    try {
      await executor.start();
      const runId = 'run-batched';
      const dispatches = Array.from({ length: 20 }, (_, i) => makeDispatch({ runId, task: `t${i}`, runtime: 'noop' }));
      // Ten tasks end in one turn of the event loop: their events go out together, in one message (held).
      await Promise.all(dispatches.slice(0, 10).map((d) => publishDispatch(bus, d)));
      await turnsUntil(() => gated.handled() >= 10 && gated.eventPublishes() >= 1, 'the first publish');
      expect(gated.eventPublishes()).toBe(1);
      // Ten more end while that publish is in flight: they wait behind it.
      for (const d of dispatches.slice(10)) await publishDispatch(bus, d);
      await turnsUntil(() => gated.handled() >= 20, '20 dispatches handled');
      expect(gated.eventPublishes()).toBe(1);
      gated.release();
      for (const d of dispatches) await recorder.terminal(d.attemptId);

      expect(recorder.eventMessages).toBe(2);
      expect(gated.eventPublishes()).toBe(2);
      const events = recorder.events.filter((e) => e.event.runId === runId);
      expect(events.map((e) => e.event.attemptId)).toEqual(dispatches.map((d) => d.attemptId));
      expect(events.every((e) => e.event.kind?.$case === 'succeeded' && e.subject === 'skein.events.run-batched')).toBe(true);
      // Every dispatch was acked once its event was stored: none comes back.
      await executor.stop({ graceMs: 1000 });
      expect(gated.handled()).toBe(20);
    } finally {
      gated.release();
      await executor.stop({ graceMs: 1000 });
      await recorder.stop();
      await bus.close();
    }
  });

  it('sends a lone event by itself, not as a batch', async () => {
    const bus = createInProcessBus();
    const recorder = await BusRecorder.start(bus);
    const executor = new Executor({ bus, logger: silent, identity: 'executor-lone@host', runtimes: { noop: createNoopRuntime() } });
    try {
      await executor.start();
      const dispatch = makeDispatch({ runId: 'run-lone', task: 'only', runtime: 'noop' });
      await publishDispatch(bus, dispatch);
      const end = await recorder.terminal(dispatch.attemptId);
      expect(end.headers).not.toHaveProperty('Skein-Event-Batch');
      expect(recorder.eventMessages).toBe(1);
    } finally {
      await executor.stop({ graceMs: 1000 });
      await recorder.stop();
      await bus.close();
    }
  });
});
