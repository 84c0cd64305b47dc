import type { Logger } from 'pino';
import type { Bus } from '@skein/bus';
import { subjects } from '@skein/bus';
import { LogBatch, LogLineStream, type LogLine } from '@skein/proto';
import type { TaskOutputStream } from '@skein/runtime';
import { publishWithRetry, type PublishRetryPolicy } from './publish-with-retry';
import type { SecretRedactor } from './redactor';

/** When a batch of log lines is published, and the limits that keep one attempt's log bounded. */
export interface LogBatchOptions {
  /** @default 500 */
  readonly maxLines: number;
  /** Bytes of line text (UTF-8). @default 262144 (256 KiB) */
  readonly maxBytes: number;
  /** How long the first line of a batch may wait for company. @default 20 */
  readonly maxDelayMs: number;
  /** A longer line is split into pieces of at most this many bytes, each but the last marked. @default 65536 */
  readonly maxLineBytes?: number;
  /** Bytes of text one attempt may log; later lines are dropped and counted in a marker line. 0: no cap. @default 67108864 (64 MiB) */
  readonly maxAttemptBytes?: number;
  /** Batches being published at once; more wait in memory. @default 16 */
  readonly maxInFlightBatches?: number;
  /** Bytes waiting to be published above which {@link AttemptLog.append} returns false (pause the source). @default 8388608 */
  readonly highWaterBytes?: number;
  /**
   * Bytes waiting to be published above which lines are dropped (counted, and reported in a marker
   * line) rather than held: memory stays bounded when publishing is stalled and the source cannot
   * pause. @default 67108864 (64 MiB)
   */
  readonly maxBufferedBytes?: number;
}

export const DEFAULT_LOG_BATCH: LogBatchOptions = {
  maxLines: 500, maxBytes: 256 * 1024, maxDelayMs: 20,
  maxLineBytes: 64 * 1024, maxAttemptBytes: 64 * 1024 * 1024, maxInFlightBatches: 16, highWaterBytes: 8 * 1024 * 1024, maxBufferedBytes: 64 * 1024 * 1024,
};

/** Appended to each piece of a split line but the last. */
export const LINE_CONTINUES_MARKER = ' [skein: line continues]';

/** The identity of an attempt, as every batch repeats it. */
export interface AttemptIdentity {
  readonly attemptId: string;
  readonly runId: string;
  /** The collector applies this workflow's log retention. */
  readonly workflow: string;
  readonly task: string;
  readonly attempt: number;
}

const STREAM_CODES: Readonly<Record<TaskOutputStream, LogLineStream>> = {
  stdout: LogLineStream.LOG_LINE_STREAM_STDOUT,
  stderr: LogLineStream.LOG_LINE_STREAM_STDERR,
  system: LogLineStream.LOG_LINE_STREAM_SYSTEM,
};

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSAFE_SOURCE = '\\u0000|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const UNSAFE_CHARACTERS = new RegExp(UNSAFE_SOURCE);
const UNSAFE_CHARACTERS_GLOBAL = new RegExp(UNSAFE_SOURCE, 'g');

/**
 * Text any store can keep: lone surrogates (from binary output decoded as UTF-16 halves) and NUL
 * (PostgreSQL text cannot hold it) become U+FFFD. The runtime already decoded invalid UTF-8 to U+FFFD.
 */
export function safeLogText(text: string): string {
  return UNSAFE_CHARACTERS.test(text) ? text.replace(UNSAFE_CHARACTERS_GLOBAL, '\uFFFD') : text;
}

/** Splits text into pieces of at most `maxBytes` UTF-8 bytes, never inside a character. */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (Buffer.byteLength(text) <= maxBytes) return [text];
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length;) {
    const code = text.codePointAt(i)!;
    const width = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    const units = code >= 0x10000 ? 2 : 1;
    if (bytes + width > maxBytes && i > start) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += width;
    i += units;
  }
  pieces.push(text.slice(start));
  return pieces;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The log of one attempt on its way to the log store: numbers every line from 1 without gaps,
 * redacts secrets, makes text safe to store, splits over-long lines, caps the attempt's size, and
 * publishes lines in batches on `skein.logs.<attemptId>` (by count, size or age). Up to
 * `maxInFlightBatches` batches are published at once, each with a `msgId` derived from its first
 * sequence, so a retried publish is deduplicated; the rest wait, and {@link AttemptLog.append}
 * returns false once `highWaterBytes` wait (a source that can pause should, until
 * {@link AttemptLog.drained}). {@link AttemptLog.close} sends the last batch with `final_count` and
 * waits for all of them.
 */
export class AttemptLog {
  private sequence = 0;
  private lines: LogLine[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiting: { lines: LogLine[]; finalCount: number | undefined; bytes: number }[] = [];
  /** Bytes of text cut into batches or being batched, not yet published. */
  private bufferedBytes = 0;
  private attemptBytes = 0;
  private capped = { lines: 0, bytes: 0 };
  private shed = { lines: 0, bytes: 0 };
  private drainWaiters: (() => void)[] = [];
  private failure: unknown;
  private readonly subject: string;
  private readonly limits: Required<LogBatchOptions>;

  constructor(
    private readonly bus: Bus,
    private readonly attempt: AttemptIdentity,
    private readonly redact: SecretRedactor,
    options: LogBatchOptions,
    private readonly retry: PublishRetryPolicy,
    private readonly logger: Logger,
    /** The last sequence already stored (an adopted attempt's log goes on from there). @default 0 */
    startAfter = 0,
    /** Bytes of output already stored: they count against `maxAttemptBytes` (an adopted attempt). @default 0 */
    storedOutputBytes = 0,
  ) {
    this.sequence = startAfter;
    this.attemptBytes = storedOutputBytes;
    this.subject = subjects.logs(attempt.attemptId);
    this.limits = { ...(DEFAULT_LOG_BATCH as Required<LogBatchOptions>), ...options } as Required<LogBatchOptions>;
  }

  /** The number of lines so far. */
  get count(): number {
    return this.sequence;
  }

  /**
   * Adds a line. Returns false when so much waits to be published that the source should pause until
   * {@link AttemptLog.drained}. Lines after {@link AttemptLog.close} are dropped (a runtime breaking
   * its contract); so are lines over the attempt's size cap, and lines arriving while more than
   * `maxBufferedBytes` wait — both are counted and reported in a system line.
   */
  append(stream: TaskOutputStream, text: string, time: Date): boolean {
    if (this.closed) return false;
    const safe = safeLogText(this.redact(text));
    const size = Buffer.byteLength(safe);
    if (stream !== 'system') {
      const cap = this.limits.maxAttemptBytes;
      if (cap > 0 && this.attemptBytes + size > cap) {
        if (this.capped.lines === 0) this.push('system', `log size limit of ${formatBytes(cap)} reached: further output of this attempt is dropped`, time);
        this.capped.lines += 1;
        this.capped.bytes += size;
        return this.writable;
      }
      if (this.bufferedBytes + size > this.limits.maxBufferedBytes) {
        this.shed.lines += 1;
        this.shed.bytes += size;
        return false;
      }
      this.attemptBytes += size;
    }
    this.reportShed(time);
    const pieces = splitUtf8(safe, this.limits.maxLineBytes);
    for (let i = 0; i < pieces.length; i++) this.push(stream, i < pieces.length - 1 ? pieces[i] + LINE_CONTINUES_MARKER : pieces[i]!, time);
    return this.writable;
  }

  /**
   * Values to redact from every line appended from now on, as the task's own secret env values are
   * (the kubernetes runtime's Secret values; see `OutputFlow.redactValues`).
   */
  redactValues(values: readonly string[]): void {
    this.redact.add(values);
  }

  /** Whether the source may go on writing (see {@link AttemptLog.append}). */
  get writable(): boolean {
    return this.bufferedBytes < this.limits.highWaterBytes;
  }

  /** Resolves once less than `highWaterBytes` wait to be published. */
  drained(): Promise<void> {
    if (this.writable) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Publishes the remaining lines as the final batch (with `final_count`) and waits until every
   * batch is stored. Rejects with the first publish error when a batch could not be published even
   * after retries. Returns the number of lines.
   */
  async close(): Promise<number> {
    if (!this.closed) {
      const now = new Date();
      this.reportShed(now);
      if (this.capped.lines > 0) {
        this.push('system', `log truncated: ${this.capped.lines} lines (${formatBytes(this.capped.bytes)}) over the limit of ${formatBytes(this.limits.maxAttemptBytes)} were dropped`, now);
      }
      this.closed = true;
      this.cut(this.sequence);
    }
    while (this.inFlight.size > 0 || this.waiting.length > 0) await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    return this.sequence;
  }

  private reportShed(time: Date): void {
    if (this.shed.lines === 0) return;
    const { lines, bytes } = this.shed;
    this.shed = { lines: 0, bytes: 0 };
    this.push('system', `${lines} lines (${formatBytes(bytes)}) were dropped: the log could not be published as fast as the task wrote it`, time);
  }

  private push(stream: TaskOutputStream, text: string, time: Date): void {
    this.lines.push({ sequence: ++this.sequence, stream: STREAM_CODES[stream], time, text });
    const size = Buffer.byteLength(text);
    this.bytes += size;
    this.bufferedBytes += size;
    if (this.lines.length >= this.limits.maxLines || this.bytes >= this.limits.maxBytes) {
      this.cut(undefined);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, this.limits.maxDelayMs);
    }
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.cut(undefined);
  };

  private cut(finalCount: number | undefined): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const lines = this.lines;
    if (lines.length === 0 && finalCount === undefined) return;
    this.waiting.push({ lines, finalCount, bytes: this.bytes });
    this.lines = [];
    this.bytes = 0;
    this.publishWaiting();
  }

  /** Starts publishing waiting batches, in order, while fewer than `maxInFlightBatches` are on their way. */
  private publishWaiting(): void {
    while (this.waiting.length > 0 && this.inFlight.size < this.limits.maxInFlightBatches) {
      const { lines, finalCount, bytes } = this.waiting.shift()!;
      const { attemptId, runId, workflow, task, attempt } = this.attempt;
      const data = LogBatch.encode({ attemptId, runId, workflow, task, attempt, lines, finalCount }).finish();
      const msgId = `${attemptId}:log:${lines[0]?.sequence ?? 'final'}`;
      const sent: Promise<void> = publishWithRetry(this.bus, this.subject, data, { msgId }, this.retry)
        .catch((err: unknown) => {
          this.failure ??= err;
          this.logger.error({ err, attemptId, firstSequence: lines[0]?.sequence, lines: lines.length }, 'a batch of task log lines could not be published');
        })
        .finally(() => {
          this.inFlight.delete(sent);
          this.bufferedBytes -= bytes;
          this.publishWaiting();
          if (this.writable && this.drainWaiters.length > 0) {
            const waiters = this.drainWaiters;
            this.drainWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
      this.inFlight.add(sent);
    }
  }
}
