import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Bus, BusMessage, Subscription } from '@skein/bus';
import { LogBatch } from '@skein/proto';
import { getLogStatus, insertLogLines, readLogLines, recordLogProgress, withTransaction, type LogLineRecord, type LogStreamCode } from '@skein/store';

export interface LogCollectorOptions {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Batches stored concurrently. @default 8 */
  readonly maxInFlight?: number;
  /** @default 30000 */
  readonly ackWaitMs?: number;
}

/** A page of an attempt's stored log. */
export interface StoredLogPage {
  readonly lines: LogLineRecord[];
  readonly complete: boolean;
}

/**
 * The log store's only writer: stores every batch of log lines executors publish, idempotently on
 * (attempt, sequence), and acks a batch only after its transaction committed — a batch that is not
 * stored is redelivered, so no line is lost and none is stored twice.
 */
export class LogCollector {
  private subscription: Subscription | undefined;

  constructor(private readonly options: LogCollectorOptions) {}

  async start(): Promise<void> {
    this.subscription = await this.options.bus.consume(
      { stream: 'logs', durable: 'log-collector', ackWaitMs: this.options.ackWaitMs ?? 30_000, maxInFlight: this.options.maxInFlight ?? 8 },
      (message) => this.store(message),
    );
    this.options.logger.info('log-collector started');
  }

  private async store(message: BusMessage): Promise<void> {
    let batch: LogBatch;
    try {
      batch = LogBatch.decode(message.data);
    } catch (err) {
      this.options.logger.error({ err, subject: message.subject }, 'undecodable log batch dropped');
      message.term();
      return;
    }
    const lines: LogLineRecord[] = batch.lines.map((l) => ({
      sequence: l.sequence, stream: (l.stream >= 1 && l.stream <= 3 ? l.stream : 1) as LogStreamCode, time: l.time ?? new Date(), text: l.text,
    }));
    await withTransaction(this.options.pool, async (tx) => {
      const added = await insertLogLines(tx, batch.attemptId, lines);
      await recordLogProgress(tx, batch.attemptId, added, batch.finalCount ?? null);
    });
    await message.ack();
  }

  /** Reads stored lines after `afterSequence`, in order. */
  async readLogs(attemptId: string, afterSequence: number, limit: number): Promise<StoredLogPage> {
    const [lines, status] = await Promise.all([
      readLogLines(this.options.pool, attemptId, afterSequence, limit),
      getLogStatus(this.options.pool, attemptId),
    ]);
    return { lines, complete: status.complete };
  }

  async stop(): Promise<void> {
    await this.subscription?.drain();
    this.subscription = undefined;
    this.options.logger.info('log-collector stopped');
  }
}
