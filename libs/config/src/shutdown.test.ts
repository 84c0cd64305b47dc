import pino from 'pino';
import { Shutdown } from './shutdown';

describe('Shutdown', () => {
  it('runs hooks in order, once, and reports a failing hook', async () => {
    const order: string[] = [];
    const shutdown = new Shutdown({ logger: pino({ level: 'silent' }), signals: [] })
      .add('stop taking work', () => { order.push('a'); })
      .add('drain', async () => { order.push('b'); throw new Error('boom'); })
      .add('close', () => { order.push('c'); });
    const [first, second] = await Promise.all([shutdown.run(), shutdown.run()]);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(first).toBe(1);
    expect(second).toBe(1);
  });

  it('forces the end when hooks outlast the timeout', async () => {
    let release!: () => void;
    const shutdown = new Shutdown({ logger: pino({ level: 'silent' }), signals: [], timeoutMs: 50 })
      .add('stuck', () => new Promise<void>((resolve) => { release = resolve; }));
    void shutdown.run();
    expect(await shutdown.done).toBe(1);
    release();
  });
});
