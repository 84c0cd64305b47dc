import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort, startNatsServer, type NatsServer } from '@skein/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { STREAMS, subjects, type Bus, type BusMessage } from './bus';
import { describeBusConformance } from './bus-conformance';
import { isBusError, isNoStream } from './errors';
import { createNatsBus, NatsBus } from './nats-bus';

const logger = pino({ level: process.env['SKEIN_TEST_LOG_LEVEL'] ?? 'silent' });

// One nats-server for the file. Its store lives in a directory we own, so that the outage test
// can stop the server and start it again on the same port and data.
let server: NatsServer;
let port: number;
let storeDir: string;
let url: string;

beforeAll(async () => {
  storeDir = mkdtempSync(path.join(os.tmpdir(), 'skein-bus-test-'));
  port = await freePort();
  server = await startNatsServer({ storeDir, port });
  url = server.url;
});

afterAll(async () => {
  await server.stop();
  rmSync(storeDir, { recursive: true, force: true });
});

describeBusConformance('NATS JetStream', async () => {
  const bus = await createNatsBus({ servers: url, name: 'bus-conformance', logger });
  return { bus, cleanup: () => bus.close() };
});

describe('NATS bus resilience', () => {
  let bus: Bus;

  afterEach(async () => {
    await bus.close();
  });

  it('survives a server restart mid-stream: every confirmed publish is delivered and consumption resumes', async () => {
    bus = await createNatsBus({ servers: url, name: 'bus-restart', logger });
    await bus.ensureStreams();
    const id = uniqueId();
    const subject = subjects.dispatch(id);
    const seen = new Watch<string>();
    await bus.consume({ stream: 'dispatch', durable: id, filterSubject: subject, ackWaitMs: 2_000 }, async (m) => {
      seen.add(text(m));
      await m.ack();
    });
    const published: string[] = [];
    const publish = async (i: number) => {
      await bus.publish(subject, bytes(`m${i}`), { msgId: `${id}-${i}` });
      published.push(`m${i}`);
    };
    for (let i = 0; i < 50; i++) await publish(i);
    await server.restart();
    // Right after the restart JetStream may still be recovering: these publishes retry until it is.
    for (let i = 50; i < 100; i++) await publish(i);
    await seen.until((s) => published.every((p) => s.has(p)), 'all 100 confirmed messages');
    expect(published).toHaveLength(100);
  });

  it('a publish during a short outage succeeds once the server is back, and is delivered', async () => {
    bus = await createNatsBus({ servers: url, name: 'bus-outage', logger });
    await bus.ensureStreams();
    const id = uniqueId();
    const subject = subjects.dispatch(id);
    const seen = new Watch<string>();
    await bus.consume({ stream: 'dispatch', durable: id, filterSubject: subject }, async (m) => {
      seen.add(text(m));
      await m.ack();
    });
    await server.stop();
    let settled = false;
    const publishing = bus.publish(subject, bytes('during outage'), { msgId: `${id}-outage` }).finally(() => {
      settled = true;
    });
    await sleep(1_000);
    expect(settled).toBe(false);
    server = await startNatsServer({ storeDir, port });
    await publishing;
    await seen.until((s) => s.has('during outage'), 'the message published during the outage');
  });

  it('recreates a consumer deleted from under it and keeps consuming', async () => {
    bus = await createNatsBus({ servers: url, name: 'bus-consumer-deleted', logger });
    await bus.ensureStreams();
    const id = uniqueId();
    const subject = subjects.dispatch(id);
    const seen = new Watch<string>();
    await bus.consume({ stream: 'dispatch', durable: id, filterSubject: subject }, async (m) => {
      seen.add(text(m));
      await m.ack();
    });
    await bus.publish(subject, bytes('before'));
    await seen.until((s) => s.has('before'), "'before'");
    const admin = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(admin);
      await deleteConsumer(jsm, id);
    } finally {
      await admin.close();
    }
    await bus.publish(subject, bytes('after'));
    await seen.until((s) => s.has('after'), "'after' through the recreated consumer");
  });

  it('hands back messages a saturated subscriber holds, so another subscriber can run them', async () => {
    bus = await createNatsBus({ servers: url, name: 'bus-saturated', logger });
    await bus.ensureStreams();
    const id = uniqueId();
    const subject = subjects.dispatch(id);
    const release = new Watch<string>();
    const busy = new Watch<string>();
    // Two slots, both held by long tasks; ackWait 20 s so only the hand-back (after 5 s) frees the rest.
    await bus.consume({ stream: 'dispatch', durable: id, filterSubject: subject, ackWaitMs: 20_000, maxInFlight: 2 }, async (m) => {
      busy.add(text(m));
      await release.until((r) => r.has('go'), 'release');
      await m.ack();
    });
    for (let i = 0; i < 4; i++) await bus.publish(subject, bytes(`task${i}`));
    await busy.until((s) => s.size >= 2, 'two running tasks');
    const other = new Watch<string>();
    await bus.consume({ stream: 'dispatch', durable: id, filterSubject: subject, ackWaitMs: 20_000, maxInFlight: 10 }, async (m) => {
      other.add(text(m));
      await m.ack();
    });
    await other.until((s) => s.size >= 2, 'the two waiting tasks at the free subscriber');
    expect([...busy.values, ...other.values].sort()).toEqual(['task0', 'task1', 'task2', 'task3']);
    release.add('go');
  });
});

describe('NATS bus PubAck multiplexer', () => {
  let bus: NatsBus;

  beforeEach(async () => {
    bus = await natsBus('bus-pub-ack');
    await bus.ensureStreams();
  });

  afterEach(async () => {
    await bus.close();
  });

  it('resolves a publish whose msgId is a duplicate, and stores it once', async () => {
    const subject = subjects.dispatch(uniqueId());
    await bus.publish(subject, bytes('first'), { msgId: `${subject}-1` });
    await bus.publish(subject, bytes('again'), { msgId: `${subject}-1` });
    expect(await bus.countMessages('dispatch', subject)).toBe(1);
  });

  it('passes a JetStream API error on as PUBLISH_REJECTED, with the server description', async () => {
    // The stream refuses a publish that expects another stream (API error 10060).
    const err = await failure(bus.publish(subjects.dispatch(uniqueId()), bytes('x'), { headers: { 'Nats-Expected-Stream': 'ELSEWHERE' } }));
    expect(isBusError(err) && err.code).toBe('PUBLISH_REJECTED');
    expect((err as Error).message).toContain('expected stream does not match');
    expect(bus.pendingPublishes).toBe(0);
  });

  it('settles 2,000 concurrent publishes and then holds no request and no timer', async () => {
    const subject = subjects.dispatch(uniqueId());
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => bus.publish(subject, bytes(`m${i}`), { msgId: `${subject}-${i}` })));
    expect(await bus.countMessages('dispatch', subject)).toBe(2_000);
    expect(bus.pendingPublishes).toBe(0);
    // The sweep stops itself at its next tick once nothing is pending.
    await until(() => !bus.publishSweepActive, 'the timeout sweep to stop');
  });

  it('fails a publish to a stream that does not exist with NO_STREAM, long before the timeout', async () => {
    const bare = await startNatsServer();
    const noStreams = await createNatsBus({ servers: bare.url, name: 'bus-no-streams', logger, publishTimeoutMs: 20_000 });
    try {
      const started = Date.now();
      expect(isNoStream(await failure(noStreams.publish(subjects.dispatch(uniqueId()), bytes('x'))))).toBe(true);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await noStreams.close();
      await bare.stop();
    }
  });

  it('times out an unanswered publish through the sweep, retries, and ends in PUBLISH_TIMEOUT', async () => {
    const bare = await startNatsServer();
    // A silent responder: no "no responders" reply, and no PubAck either.
    const silent = await connect({ servers: bare.url });
    const subject = subjects.dispatch(uniqueId());
    silent.subscribe(subject);
    await silent.flush();
    const unanswered = await createNatsBus({ servers: bare.url, name: 'bus-unanswered', logger, requestTimeoutMs: 200, publishTimeoutMs: 1_000 });
    try {
      const started = Date.now();
      const err = await failure(unanswered.publish(subject, bytes('x')));
      expect(isBusError(err) && err.code).toBe('PUBLISH_TIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(800);
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(unanswered instanceof NatsBus && unanswered.pendingPublishes).toBe(0);
    } finally {
      await unanswered.close();
      await silent.close();
      await bare.stop();
    }
  });

  it('settles every publish in flight at close (acked or BUS_CLOSED) and leaves nothing pending', async () => {
    const subject = subjects.dispatch(uniqueId());
    const outcomes = Array.from({ length: 500 }, (_, i) =>
      bus.publish(subject, bytes(`m${i}`)).then(
        () => 'acked',
        (err: unknown) => (isBusError(err) ? err.code : String(err)),
      ),
    );
    await bus.close();
    const settled = new Set(await Promise.all(outcomes));
    settled.delete('acked');
    settled.delete('BUS_CLOSED');
    expect([...settled]).toEqual([]);
    expect(bus.pendingPublishes).toBe(0);
    expect(bus.publishSweepActive).toBe(false);
    const late = await failure(bus.publish(subject, bytes('late')));
    expect(isBusError(late) && late.code).toBe('BUS_CLOSED');
  });
});

async function natsBus(name: string): Promise<NatsBus> {
  const bus = await createNatsBus({ servers: url, name, logger });
  if (!(bus instanceof NatsBus)) throw new Error('createNatsBus returned another Bus');
  return bus;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A set that tests can await a condition on. */
class Watch<T> {
  readonly values = new Set<T>();
  private readonly waiters = new Set<() => void>();

  add(value: T): void {
    this.values.add(value);
    for (const check of [...this.waiters]) check();
  }

  until(condition: (values: Set<T>) => boolean, what: string, timeoutMs = 25_000): Promise<void> {
    if (condition(this.values)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition(this.values)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; have ${JSON.stringify([...this.values])}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

/**
 * nats-server 2.9 can fail a consumer delete that races the consumer's own state flush
 * ("unlinkat ...: directory not empty"); asking again finishes it (or finds it gone).
 */
async function deleteConsumer(jsm: JetStreamManager, durable: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await jsm.consumers.delete(STREAMS.dispatch.jetstreamName, durable);
      return;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10014) return;
      if (attempt >= 10) throw err;
      await sleep(50);
    }
  }
}

let counter = 0;
function uniqueId(): string {
  return `r${process.pid.toString(36)}${Date.now().toString(36)}${(++counter).toString(36)}`;
}

function text(m: BusMessage): string {
  return Buffer.from(m.data).toString();
}

function bytes(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
