import pino from 'pino';
import { createInProcessBus, type Bus, type Subscription } from '@skein/bus';
import { LogBatch, LogLineStream, type LogLine } from '@skein/proto';
import { AttemptLog, DEFAULT_LOG_BATCH, LINE_CONTINUES_MARKER, safeLogText, splitUtf8, type LogBatchOptions } from './attempt-log';
import { DEFAULT_PUBLISH_RETRY } from './publish-with-retry';
import { createRedactor } from './redactor';

const silent = pino({ enabled: false });
const identity = { attemptId: 'att-1', runId: 'run-1', workflow: 'etl', task: 'extract', attempt: 1 };
const now = new Date();

describe('log text', () => {
  it('replaces NUL and lone surrogates, keeping valid text as it is', () => {
    expect(safeLogText('plain ✓ 😀')).toBe('plain ✓ 😀');
    expect(safeLogText('a\u0000b')).toBe('a\uFFFDb');
    expect(safeLogText('x\uD83Dy\uDE00z')).toBe('x\uFFFDy\uFFFDz');
  });

  it('splits by UTF-8 bytes, never inside a character', () => {
    expect(splitUtf8('abcdefg', 3)).toEqual(['abc', 'def', 'g']);
    const pieces = splitUtf8('é'.repeat(5) + '😀😀', 4);
    expect(pieces.join('')).toBe('é'.repeat(5) + '😀😀');
    for (const piece of pieces) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(4);
  });
});

describe('AttemptLog', () => {
  let bus: Bus;
  let subscription: Subscription;
  let batches: LogBatch[];

  beforeEach(async () => {
    bus = createInProcessBus();
    await bus.ensureStreams();
    batches = [];
    subscription = await bus.consume({ stream: 'logs', durable: 'test' }, async (m) => {
      batches.push(LogBatch.decode(m.data));
      await m.ack();
    });
  });

  afterEach(async () => {
    await subscription.drain();
    await bus.close();
  });

  const lines = (): LogLine[] => batches.flatMap((b) => b.lines).sort((a, b) => a.sequence - b.sequence);
  const make = (options: Partial<LogBatchOptions> = {}, target: Bus = bus, redact = createRedactor([])) =>
    new AttemptLog(target, identity, redact, { ...DEFAULT_LOG_BATCH, ...options }, DEFAULT_PUBLISH_RETRY, silent);

  /** Resolves once the consumer has seen `count` lines. */
  async function received(count: number): Promise<void> {
    while (lines().length < count) await new Promise((r) => setTimeout(r, 5));
  }

  it('numbers lines without gaps and sends the final count', async () => {
    const log = make({ maxLines: 7 });
    for (let i = 1; i <= 20; i++) log.append('stdout', `line ${i}`, now);
    expect(await log.close()).toBe(20);
    await received(20);
    expect(lines().map((l) => l.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(batches.find((b) => b.finalCount !== undefined)?.finalCount).toBe(20);
    // Every batch names the attempt and its workflow (whose log retention the collector applies).
    expect(new Set(batches.map((b) => `${b.attemptId} ${b.workflow}`))).toEqual(new Set(['att-1 etl']));
  });

  it('splits an over-long line into marked pieces', async () => {
    const log = make({ maxLineBytes: 10 });
    log.append('stdout', 'x'.repeat(25), now);
    await log.close();
    await received(3);
    expect(lines().map((l) => l.text)).toEqual([`${'x'.repeat(10)}${LINE_CONTINUES_MARKER}`, `${'x'.repeat(10)}${LINE_CONTINUES_MARKER}`, 'x'.repeat(5)]);
  });

  it('stores binary output and NUL safely, and redacts secrets first', async () => {
    const log = make({}, bus, createRedactor([{ name: 'TOKEN', value: 's3cr3t', secret: true }]));
    log.append('stdout', 'token=s3cr3t\u0000\uD800 end', now);
    await log.close();
    await received(1);
    expect(lines()[0]?.text).toBe('token=***\uFFFD\uFFFD end');
  });

  it('caps the size of an attempt and says how much was dropped', async () => {
    const log = make({ maxAttemptBytes: 100 });
    for (let i = 0; i < 30; i++) log.append('stdout', '0123456789', now);
    log.append('system', 'exit code 0', now);
    const count = await log.close();
    await received(count);
    const texts = lines().map((l) => l.text);
    expect(texts.filter((t) => t === '0123456789')).toHaveLength(10);
    expect(texts).toContain('log size limit of 100 B reached: further output of this attempt is dropped');
    expect(texts).toContain('exit code 0');
    expect(texts[texts.length - 1]).toBe('log truncated: 20 lines (200 B) over the limit of 100 B were dropped');
    expect(lines().filter((l) => l.stream === LogLineStream.LOG_LINE_STREAM_SYSTEM)).toHaveLength(3);
  });

  it('goes on from an adopted attempt\'s stored log: its numbering and the size cap it has used', async () => {
    // 5 lines stored, 60 bytes of them output: 40 bytes of the 100-byte cap are left.
    const log = new AttemptLog(bus, identity, createRedactor([]), { ...DEFAULT_LOG_BATCH, maxAttemptBytes: 100 }, DEFAULT_PUBLISH_RETRY, silent, 5, 60);
    for (let i = 0; i < 6; i++) log.append('stdout', '0123456789', now);
    const count = await log.close();
    expect(count).toBe(5 + 4 + 2);
    await received(6);
    expect(lines().map((l) => l.sequence)).toEqual([6, 7, 8, 9, 10, 11]);
    const texts = lines().map((l) => l.text);
    expect(texts.filter((t) => t === '0123456789')).toHaveLength(4);
    expect(texts[texts.length - 1]).toBe('log truncated: 2 lines (20 B) over the limit of 100 B were dropped');
  });

  it('holds a bounded number of bytes when publishing stalls, and asks the source to pause', async () => {
    // A bus whose publishes wait for the test to open the gate: a stalled NATS, as the log sees it.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    const stalled: Bus = { ...bus, publish: (subject, data, options) => gate.then(() => bus.publish(subject, data, options)) };
    const log = make({ maxLines: 10, maxInFlightBatches: 2, highWaterBytes: 1000, maxBufferedBytes: 5000 }, stalled);
    let paused = false;
    for (let i = 0; i < 1000; i++) if (!log.append('stdout', '0123456789', now)) paused = true;
    expect(paused).toBe(true);
    expect(log.writable).toBe(false);
    const drained = log.drained();
    open();
    await drained;
    const count = await log.close();
    await received(count);
    const texts = lines().map((l) => l.text);
    // 5000 bytes were held (500 lines); the other 500 were counted and reported, not held.
    expect(texts.filter((t) => t === '0123456789')).toHaveLength(500);
    expect(texts).toContain('500 lines (4.9 KiB) were dropped: the log could not be published as fast as the task wrote it');
    expect(lines().map((l) => l.sequence)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  });
});
