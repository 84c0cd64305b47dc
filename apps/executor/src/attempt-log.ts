import type { Logger } from 'pino';
import type { Bus } from '@skein/bus';
import { subjects } from '@skein/bus';
import { LogBatch, LogLineStream, type LogLine } from '@skein/proto';
import type { TaskOutputStream } from '@skein/runtime';
import { publishWithRetry, type PublishRetryPolicy } from './publish-with-retry';
import type { Redactor } from './redactor';

/** When a batch of log lines is published. Whichever limit is reached first sends the batch. */
export interface LogBatchOptions {
  /** @default 500 */
  readonly maxLines: number;
  /** Bytes of line text (UTF-8). @default 262144 (256 KiB) */
  readonly maxBytes: number;
  /** How long the first line of a batch may wait for company. @default 20 */
  readonly maxDelayMs: number;
}

export const DEFAULT_LOG_BATCH: LogBatchOptions = { maxLines: 500, maxBytes: 256 * 1024, maxDelayMs: 20 };

/** The identity of an attempt, as every batch repeats it. */
export interface AttemptIdentity {
  readonly attemptId: string;
  readonly runId: string;
  readonly task: string;
  readonly attempt: number;
}

const STREAM_CODES: Readonly<Record<TaskOutputStream, LogLineStream>> = {
  stdout: LogLineStream.LOG_LINE_STREAM_STDOUT,
  stderr: LogLineStream.LOG_LINE_STREAM_STDERR,
  system: LogLineStream.LOG_LINE_STREAM_SYSTEM,
};

/**
 * The log of one attempt on its way to the log store: numbers every line from 1 without gaps,
 * redacts secrets, and publishes lines in batches on `skein.logs.<attemptId>` (by count, size or
 * age). Batches are published as soon as they are cut, without waiting for the previous one, and
 * each has a `msgId` derived from its first sequence, so a retried publish is deduplicated.
 * {@link AttemptLog.close} sends the last batch with `final_count` and waits for all of them.
 */
export class AttemptLog {
  private sequence = 0;
  private lines: LogLine[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private readonly subject: string;

  constructor(
    private readonly bus: Bus,
    private readonly attempt: AttemptIdentity,
    private readonly redact: Redactor,
    private readonly options: LogBatchOptions,
    private readonly retry: PublishRetryPolicy,
    private readonly logger: Logger,
  ) {
    this.subject = subjects.logs(attempt.attemptId);
  }

  /** The number of lines so far. */
  get count(): number {
    return this.sequence;
  }

  /** Adds a line. Lines after {@link AttemptLog.close} are dropped (a runtime breaking its contract). */
  append(stream: TaskOutputStream, text: string, time: Date): void {
    if (this.closed) return;
    const safe = this.redact(text);
    this.lines.push({ sequence: ++this.sequence, stream: STREAM_CODES[stream], time, text: safe });
    this.bytes += Buffer.byteLength(safe);
    if (this.lines.length >= this.options.maxLines || this.bytes >= this.options.maxBytes) {
      this.cut(undefined);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, this.options.maxDelayMs);
    }
  }

  /**
   * Publishes the remaining lines as the final batch (with `final_count`) and waits until every
   * batch is stored. Rejects with the first publish error when a batch could not be published even
   * after retries. Returns the number of lines.
   */
  async close(): Promise<number> {
    if (!this.closed) {
      this.closed = true;
      this.cut(this.sequence);
    }
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    return this.sequence;
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
    this.lines = [];
    this.bytes = 0;
    const { attemptId, runId, task, attempt } = this.attempt;
    const data = LogBatch.encode({ attemptId, runId, task, attempt, lines, finalCount }).finish();
    const msgId = `${attemptId}:log:${lines[0]?.sequence ?? 'final'}`;
    const sent: Promise<void> = publishWithRetry(this.bus, this.subject, data, { msgId }, this.retry)
      .catch((err: unknown) => {
        this.failure ??= err;
        this.logger.error({ err, attemptId, firstSequence: lines[0]?.sequence, lines: lines.length }, 'a batch of task log lines could not be published');
      })
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }
}
