import type { Pool } from 'pg';
import pino from 'pino';
import { BusError, createInProcessBus, subjects, type Bus, type BusMessage } from '@skein/bus';
import { createPool, encodeOutboxBatch, migrate, type OutboxMessage } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { OutboxPublisher } from './outbox-publisher';

const silent = pino({ enabled: false });

describe('OutboxPublisher with batch rows', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  const refused = new Set<string>();
  const received: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    const real = createInProcessBus();
    await real.ensureStreams();
    await real.consume({ stream: 'dispatch', durable: 'outbox-test' }, async (m: BusMessage) => {
      received.push(new TextDecoder().decode(m.data));
      await m.ack();
    });
    // The real bus, except that it refuses the messages the test names.
    bus = { ...real, ensureStreams: () => real.ensureStreams(), consume: (o, h) => real.consume(o, h), close: () => real.close(),
      publishCore: (s, d, h) => real.publishCore(s, d, h), subscribeCore: (s, h) => real.subscribeCore(s, h),
      publish: (subject, data, options) => (refused.has(options?.msgId ?? '') ? Promise.reject(new BusError('PUBLISH_REJECTED', 'refused by the test')) : real.publish(subject, data, options)) };
  });

  afterAll(async () => {
    await bus.close();
    await pool.end();
    await db.drop();
  });

  const messages = (prefix: string, n: number): OutboxMessage[] =>
    Array.from({ length: n }, (_, i) => ({ subject: subjects.dispatch('default'), msgId: `${prefix}-${i}`, payload: new TextEncoder().encode(`${prefix}-${i}`), headers: {} }));
  const insertBatch = async (batch: readonly OutboxMessage[]): Promise<number> => Number((await pool.query<{ id: string }>(
    `INSERT INTO outbox (subject, msg_id, payload, headers, batch) VALUES ('', '', $1, '{}', true) RETURNING id`, [encodeOutboxBatch(batch)])).rows[0]?.id);
  const rowsLeft = async (): Promise<number[]> => (await pool.query<{ id: string }>('SELECT id FROM outbox ORDER BY id')).rows.map((r) => Number(r.id));

  it('hands a batch row over for deletion once every message in it is published, and not before', async () => {
    const publisher = new OutboxPublisher({ pool, bus, logger: silent });
    const whole = messages('whole', 600);
    const wholeId = await insertBatch(whole);
    const broken = messages('broken', 3);
    refused.add('broken-1');
    const brokenId = await insertBatch(broken);
    await publisher.publish([...whole.map((m) => ({ ...m, id: wholeId })), ...broken.map((m) => ({ ...m, id: brokenId }))]);
    // The broken row is kept for the sweeper; the other messages of it went out all the same.
    expect(publisher.takeSent()).toEqual([wholeId]);
    expect(received.filter((r) => r.startsWith('whole-'))).toHaveLength(600);
    expect(received.filter((r) => r.startsWith('broken-'))).toEqual(['broken-0', 'broken-2']);
    await publisher.stop();
    expect(await rowsLeft()).toEqual([wholeId, brokenId]);
    await pool.query('DELETE FROM outbox');
  });

  it('sweeps a batch row a dead publisher left: every message again, then the row goes; a failure keeps it', async () => {
    refused.clear();
    received.length = 0;
    const orphan = messages('orphan', 700);
    await insertBatch(orphan);
    await pool.query(`UPDATE outbox SET create_time = now() - interval '1 minute'`);
    refused.add('orphan-650');
    const publisher = new OutboxPublisher({ pool, bus, logger: silent });
    await expect(publisher.sweep()).rejects.toThrow('refused by the test');
    expect((await rowsLeft())).toHaveLength(1);
    refused.clear();
    expect(await publisher.sweep()).toBe(700);
    expect(await rowsLeft()).toEqual([]);
    expect(new Set(received.filter((r) => r.startsWith('orphan-')))).toEqual(new Set(orphan.map((m) => m.msgId)));
    await publisher.stop();
  });
});
