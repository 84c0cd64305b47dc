import type { Bus, Headers } from './bus';
import { subjects } from './bus';
import { bytes, deferred, failure, Inbox, sleep, testIds } from './bus-conformance-helpers';
import { isBusClosed, isConsumerConflict, isNoStream } from './errors';

/** What a conformance factory returns: a fresh bus (streams not yet ensured) and how to dispose of it. */
export interface BusFixture {
  readonly bus: Bus;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every {@link Bus} implementation must share, as one jest suite. Each test makes
 * its own bus with `factory` and uses its own subjects and durables, so implementations backed
 * by a shared server (NATS) need no purge between tests.
 *
 * Assertions wait for events (a message arriving), never for elapsed time; the only sleeps check
 * that something does NOT happen, where a correct implementation passes however slow the machine.
 */
export function describeBusConformance(name: string, factory: () => Promise<BusFixture>): void {
  describe(`Bus conformance: ${name}`, () => {
    let fixture: BusFixture;
    let bus: Bus;

    beforeEach(async () => {
      fixture = await factory();
      bus = fixture.bus;
      await bus.ensureStreams();
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('round-trips subject, data and headers to a consumer', async () => {
      const t = testIds();
      const inbox = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject }, inbox.handler);
      await bus.publish(t.subject, bytes('hello'), { headers: { 'x-skein-run': 'run-1', traceparent: '00-abc-def-01' } });
      await inbox.until((r) => r.length >= 1, 'the message');
      const [m] = inbox.received;
      expect(m?.subject).toBe(t.subject);
      expect(m?.text).toBe('hello');
      expect(m?.headers['x-skein-run']).toBe('run-1');
      expect(m?.headers['traceparent']).toBe('00-abc-def-01');
      expect(m?.deliveryCount).toBe(1);
      expect(m?.sequence).toBeGreaterThan(0);
    });

    it('removes an acked message: it is not delivered again (work queue)', async () => {
      const t = testIds();
      const inbox = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 500 }, inbox.handler);
      await bus.publish(t.subject, bytes('a'));
      await inbox.until((r) => r.length >= 1, 'a');
      await inbox.acked();
      await sleep(1_500);
      await bus.publish(t.subject, bytes('b'));
      await inbox.until((r) => r.length >= 2, 'b');
      await sleep(200);
      expect(inbox.texts()).toEqual(['a', 'b']);
    });

    it('removes a message acked with ackNoWait: it is not delivered again', async () => {
      const t = testIds();
      const inbox = new Inbox((m) => {
        m.ackNoWait();
        return Promise.resolve();
      });
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 500 }, inbox.handler);
      await bus.publish(t.subject, bytes('a'));
      await inbox.until((r) => r.length >= 1, 'a');
      await sleep(1_500);
      await bus.publish(t.subject, bytes('b'));
      await inbox.until((r) => r.length >= 2, 'b');
      await sleep(200);
      expect(inbox.texts()).toEqual(['a', 'b']);
    });

    it('redelivers a message not acked within ackWait, with deliveryCount 2', async () => {
      const t = testIds();
      const inbox = new Inbox((m) => (m.deliveryCount >= 2 ? m.ack() : Promise.resolve()));
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 500 }, inbox.handler);
      await bus.publish(t.subject, bytes('x'));
      await inbox.until((r) => r.length >= 2, 'the redelivery');
      const [first, second] = inbox.received;
      expect(first?.deliveryCount).toBe(1);
      expect(second?.deliveryCount).toBe(2);
      expect(second?.sequence).toBe(first?.sequence);
      expect(second?.text).toBe('x');
    });

    it('redelivers a nak-ed message at once (long before ackWait)', async () => {
      const t = testIds();
      const inbox = new Inbox(async (m) => {
        if (m.deliveryCount === 1) m.nak();
        else await m.ack();
      });
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 60_000 }, inbox.handler);
      await bus.publish(t.subject, bytes('x'));
      await inbox.until((r) => r.length >= 2, 'the redelivery after nak');
      expect(inbox.received.map((m) => m.deliveryCount)).toEqual([1, 2]);
    });

    it('redelivers a message nak-ed with a delay only after that delay', async () => {
      const t = testIds();
      const at: number[] = [];
      const inbox = new Inbox(async (m) => {
        at.push(Date.now());
        if (m.deliveryCount === 1) m.nak(800);
        else await m.ack();
      });
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 60_000 }, inbox.handler);
      await bus.publish(t.subject, bytes('x'));
      await inbox.until((r) => r.length >= 2, 'the delayed redelivery');
      expect(inbox.received.map((m) => m.deliveryCount)).toEqual([1, 2]);
      // Never early (a slow machine can only make it later); 700 allows for clock granularity.
      expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(700);
    });

    it('redelivers the message of a handler that throws', async () => {
      const t = testIds();
      const inbox = new Inbox(async (m) => {
        if (m.deliveryCount === 1) throw new Error('handler failure (expected by the test)');
        await m.ack();
      });
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 60_000 }, inbox.handler);
      await bus.publish(t.subject, bytes('x'));
      await inbox.until((r) => r.length >= 2, 'the redelivery after a throw');
      expect(inbox.received.map((m) => m.deliveryCount)).toEqual([1, 2]);
    });

    it('does not redeliver a terminated message', async () => {
      const t = testIds();
      const inbox = new Inbox(async (m) => m.term());
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 500 }, inbox.handler);
      await bus.publish(t.subject, bytes('x'));
      await inbox.until((r) => r.length >= 1, 'the message');
      await sleep(1_500);
      expect(inbox.received).toHaveLength(1);
    });

    it('keeps a message in progress past ackWait while working() is called', async () => {
      const t = testIds();
      const inbox = new Inbox(async (m) => {
        // 2.5 ackWaits of work, reporting progress every 100 ms: a 900 ms stall would be needed to lose it.
        for (let i = 0; i < 25; i++) {
          await sleep(100);
          m.working();
        }
        await m.ack();
      });
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 1_000 }, inbox.handler);
      await bus.publish(t.subject, bytes('long task'));
      await inbox.until((r) => r.length >= 1, 'the message');
      await inbox.handled(1);
      expect(inbox.received).toHaveLength(1);
    });

    it('drops a publish whose msgId was seen within the duplicate window', async () => {
      const t = testIds();
      const inbox = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject }, inbox.handler);
      await bus.publish(t.subject, bytes('first'), { msgId: `${t.id}-1` });
      await bus.publish(t.subject, bytes('duplicate'), { msgId: `${t.id}-1` });
      await bus.publish(t.subject, bytes('second'), { msgId: `${t.id}-2` });
      // Per-subject order: a stored duplicate would arrive before 'second'.
      await inbox.until((r) => r.some((m) => m.text === 'second'), "'second'");
      expect(inbox.texts()).toEqual(['first', 'second']);
    });

    it('delivers 200 messages in publish order per subject', async () => {
      const t = testIds();
      const inbox = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: `${t.subject}.*` }, inbox.handler);
      for (let i = 0; i < 200; i++) await bus.publish(`${t.subject}.${i % 2 === 0 ? 'even' : 'odd'}`, bytes(String(i)));
      await inbox.until((r) => r.length >= 200, '200 messages');
      const order = (suffix: string) => inbox.received.filter((m) => m.subject.endsWith(suffix)).map((m) => Number(m.text));
      expect(order('.even')).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
      expect(order('.odd')).toEqual(Array.from({ length: 100 }, (_, i) => i * 2 + 1));
      expect(inbox.received.every((m) => m.deliveryCount === 1)).toBe(true);
    });

    it('shares a durable between two subscribers: each message once in total', async () => {
      const t = testIds();
      const all = new Inbox(() => Promise.resolve());
      const one = new Inbox(async (m) => { all.record(m); await m.ack(); });
      const two = new Inbox(async (m) => { all.record(m); await m.ack(); });
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 5_000, maxInFlight: 4 }, one.handler);
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 5_000, maxInFlight: 4 }, two.handler);
      for (let i = 0; i < 60; i++) await bus.publish(t.subject, bytes(String(i)));
      await all.until((r) => r.length >= 60, '60 messages across both subscribers');
      await sleep(300);
      expect(one.received.length + two.received.length).toBe(60);
      expect(new Set(all.texts()).size).toBe(60);
    });

    it('delivers only messages matching filterSubject', async () => {
      const t = testIds();
      const a = new Inbox((m) => m.ack());
      const b = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'dispatch', durable: `${t.durable}-a`, filterSubject: `${t.subject}.a` }, a.handler);
      await bus.consume({ stream: 'dispatch', durable: `${t.durable}-b`, filterSubject: `${t.subject}.b` }, b.handler);
      await bus.publish(`${t.subject}.a`, bytes('a1'));
      await bus.publish(`${t.subject}.b`, bytes('b1'));
      await bus.publish(`${t.subject}.a`, bytes('a2'));
      await a.until((r) => r.length >= 2, 'a1 and a2');
      await b.until((r) => r.length >= 1, 'b1');
      await sleep(200);
      expect(a.texts()).toEqual(['a1', 'a2']);
      expect(b.texts()).toEqual(['b1']);
    });

    it('refuses a second durable whose filter overlaps another on a work-queue stream', async () => {
      const t = testIds();
      await bus.consume({ stream: 'dispatch', durable: `${t.durable}-a`, filterSubject: `${t.subject}.>` }, (m) => m.ack());
      const conflict = await failure(bus.consume({ stream: 'dispatch', durable: `${t.durable}-b`, filterSubject: `${t.subject}.x` }, (m) => m.ack()));
      expect(isConsumerConflict(conflict)).toBe(true);
    });

    it('drain waits for the handler in flight and takes nothing new', async () => {
      const t = testIds();
      const release = deferred();
      const started = deferred();
      const first = new Inbox(async (m) => {
        started.resolve();
        await release.promise;
        await m.ack();
      });
      const subscription = await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 60_000 }, first.handler);
      await bus.publish(t.subject, bytes('in flight'));
      await started.promise;
      let drained = false;
      const draining = subscription.drain().then(() => { drained = true; });
      await bus.publish(t.subject, bytes('after drain'));
      await sleep(300);
      expect(drained).toBe(false);
      release.resolve();
      await draining;
      expect(first.texts()).toEqual(['in flight']);
      // The message published during the drain waits for the next subscriber (ackWait is 60 s,
      // so it must not have been handed to the draining one).
      const second = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject, ackWaitMs: 60_000 }, second.handler);
      await second.until((r) => r.length >= 1, "'after drain' at the next subscriber");
      await sleep(200);
      expect(second.texts()).toEqual(['after drain']);
    });

    it('publishes and subscribes on core subjects with * and > wildcards', async () => {
      const t = testIds();
      const base = subjects.cancel(t.id);
      const got: Record<string, Array<{ subject: string; text: string; headers: Headers }>> = { star: [], gt: [], literal: [] };
      const arrived = new Inbox(() => Promise.resolve());
      const listen = (key: string) => (subject: string, data: Uint8Array, headers: Headers) => {
        got[key]?.push({ subject, text: Buffer.from(data).toString(), headers });
        arrived.tick();
      };
      bus.subscribeCore(`${base}.*`, listen('star'));
      bus.subscribeCore(`${base}.>`, listen('gt'));
      bus.subscribeCore(`${base}.x`, listen('literal'));
      bus.publishCore(`${subjects.cancel('other')}.x`, bytes('elsewhere'));
      bus.publishCore(`${base}.x`, bytes('x'), { reason: 'user' });
      bus.publishCore(`${base}.y.z`, bytes('yz'));
      bus.publishCore(`${base}.y`, bytes('y'));
      await arrived.untilTicks(6, 'six core deliveries');
      await sleep(200);
      expect(got['star']?.map((m) => m.text)).toEqual(['x', 'y']);
      expect(got['gt']?.map((m) => m.text)).toEqual(['x', 'yz', 'y']);
      expect(got['literal']?.map((m) => m.text)).toEqual(['x']);
      expect(got['literal']?.[0]?.subject).toBe(`${base}.x`);
      expect(got['literal']?.[0]?.headers['reason']).toBe('user');
    });

    it('ensureStreams is idempotent', async () => {
      await bus.ensureStreams();
      await bus.ensureStreams();
      const t = testIds();
      const inbox = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'events', durable: t.durable, filterSubject: subjects.event(t.id) }, inbox.handler);
      await bus.publish(subjects.event(t.id), bytes('ok'));
      await inbox.until((r) => r.length >= 1, 'the event');
    });

    it('delivers messages published before the consumer existed, in order', async () => {
      const t = testIds();
      for (const text of ['one', 'two', 'three']) await bus.publish(subjects.logs(t.id), bytes(text));
      const inbox = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'logs', durable: t.durable, filterSubject: subjects.logs(t.id) }, inbox.handler);
      await inbox.until((r) => r.length >= 3, 'three earlier messages');
      expect(inbox.texts()).toEqual(['one', 'two', 'three']);
    });

    it('counts the messages a stream holds on a subject: published, not yet acked', async () => {
      const t = testIds();
      const other = testIds();
      for (const text of ['one', 'two']) await bus.publish(subjects.logs(t.id), bytes(text));
      await bus.publish(subjects.logs(other.id), bytes('other'));
      expect(await bus.countMessages!('logs', subjects.logs(t.id))).toBe(2);
      const inbox = new Inbox((m) => m.ack());
      await bus.consume({ stream: 'logs', durable: t.durable, filterSubject: subjects.logs(t.id) }, inbox.handler);
      await inbox.until((r) => r.length >= 2, 'both messages');
      for (let i = 0; i < 200 && (await bus.countMessages!('logs', subjects.logs(t.id))) > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await bus.countMessages!('logs', subjects.logs(t.id))).toBe(0);
      expect(await bus.countMessages!('logs', subjects.logs(other.id))).toBe(1);
    });

    it('rejects a publish to a subject no stream captures', async () => {
      expect(isNoStream(await failure(bus.publish('skein.nowhere.x', bytes('x'))))).toBe(true);
    });

    it('close is idempotent, and a closed bus refuses work', async () => {
      const t = testIds();
      await bus.consume({ stream: 'dispatch', durable: t.durable, filterSubject: t.subject }, (m) => m.ack());
      await Promise.all([bus.close(), bus.close()]);
      await bus.close();
      expect(isBusClosed(await failure(bus.publish(t.subject, bytes('x'))))).toBe(true);
      expect(isBusClosed(await failure(Promise.resolve().then(() => bus.publishCore(subjects.cancel(t.id), bytes('x')))))).toBe(true);
    });
  });
}
