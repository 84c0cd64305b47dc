import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { subjects, type Bus, type BusMessage, type Subscription } from '@skein/bus';
import { LogBatch, LogLinesStored } from '@skein/proto';
import { createPgLogStore, listWorkflowLogRetention, type LogBatchRecord, type LogLineRecord, type LogStore, type LogStreamCode } from '@skein/store';
import { BatchWriter } from './batch-writer';
import { LogFeed } from './log-feed';
import { LogMaintenance, type LogMaintenanceOptions } from './log-maintenance';
import { readLogProgress, type LogProgress, type LogProgressOptions } from './log-progress';
import { tailLog, type LogTailChunk, type TailOptions } from './log-tail';

export interface LogCollectorOptions {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Where lines are kept. @default the PostgreSQL store on `pool` */
  readonly store?: LogStore;
  /**
   * Batches delivered and not yet acked at once. Batches that arrive while a transaction runs are
   * stored together by the next one, so this bounds how many one transaction can group. @default 64
   */
  readonly maxInFlight?: number;
  /** @default 30000 */
  readonly ackWaitMs?: number;
  /** How long a batch waits before it is redelivered after the store failed to take it. @default 1000 */
  readonly storeRetryDelayMs?: number;
  /** Retention and the gap check. */
  readonly maintenance?: LogMaintenanceOptions;
  /** This replica's id in its stored-lines notices. @default a random UUID */
  readonly id?: string;
  /**
   * False: consume no log batches — the replica only serves reads and tails (the lines are stored
   * by the other replicas; their notices keep its tails live). @default true
   */
  readonly ingest?: boolean;
}

/** A page of an attempt's stored log. */
export interface StoredLogPage {
  readonly lines: LogLineRecord[];
  readonly complete: boolean;
}

function toBatchRecord(batch: LogBatch): LogBatchRecord {
  return {
    attemptId: batch.attemptId,
    finalCount: batch.finalCount ?? null,
    ...(batch.workflow !== '' && { workflow: batch.workflow }),
    lines: batch.lines.map((l) => ({
      sequence: l.sequence, stream: (l.stream >= 1 && l.stream <= 3 ? l.stream : 1) as LogStreamCode, time: l.time ?? new Date(), text: l.text,
    })),
  };
}

/**
 * The log store's only writer: stores every batch of log lines executors publish, idempotently on
 * (attempt, sequence), and acks a batch only after the transaction holding it committed — a batch
 * that is not stored is redelivered, so no line is lost and none is stored twice. Batches that queue
 * up are stored several per transaction. After each commit the lines go to live tails
 * ({@link LogCollector.tailLogs}) through the in-process {@link LogFeed}.
 */
export class LogCollector {
  /** Lines as they are committed, per attempt: what live tails listen to. */
  readonly feed = new LogFeed();
  readonly store: LogStore;
  /** This replica's id in its stored-lines notices. */
  readonly id: string;
  private readonly writer: BatchWriter;
  private notices: Subscription | undefined;
  private readonly maintenance: LogMaintenance;
  private subscription: Subscription | undefined;
  private failing = false;

  constructor(private readonly options: LogCollectorOptions) {
    this.store = options.store ?? createPgLogStore(options.pool);
    this.id = options.id ?? randomUUID();
    this.writer = new BatchWriter(this.store, {
      onStored: (batches, statuses) => {
        const maxSequences = new Map<string, number>();
        for (const batch of batches) {
          const status = statuses.get(batch.attemptId);
          if (status) this.feed.publish(batch.attemptId, batch.lines, status);
          const max = batch.lines.reduce((m, l) => Math.max(m, l.sequence), 0);
          maxSequences.set(batch.attemptId, Math.max(max, maxSequences.get(batch.attemptId) ?? 0));
        }
        this.announce(maxSequences);
      },
    });
    // Workflows are in PostgreSQL whichever store holds the lines.
    this.maintenance = new LogMaintenance(this.store, options.logger, {
      workflowRetention: () => listWorkflowLogRetention(options.pool),
      ...options.maintenance,
    });
  }

  async start(): Promise<void> {
    // Before consuming: the tails of this replica hear of lines the others store from now on.
    this.notices = this.options.bus.subscribeCore(subjects.allLogsStored, (_subject, data) => this.heard(data));
    if (this.options.ingest ?? true) {
      this.subscription = await this.options.bus.consume(
        { stream: 'logs', durable: 'log-collector', ackWaitMs: this.options.ackWaitMs ?? 30_000, maxInFlight: this.options.maxInFlight ?? 64 },
        (message) => this.handle(message),
      );
    }
    this.maintenance.start();
    this.options.logger.info('log-collector started');
  }

  /** Tells the other replicas, one small core message per attempt per commit, which lines were stored. */
  private announce(maxSequences: ReadonlyMap<string, number>): void {
    for (const [attemptId, maxSequence] of maxSequences) {
      try {
        this.options.bus.publishCore(subjects.logsStored(attemptId), LogLinesStored.encode({ attemptId, collectorId: this.id, maxSequence }).finish());
      } catch (err) {
        // At most once by design: the other replicas' tails poll the store as well.
        this.options.logger.debug({ err, attemptId }, 'a stored-lines notice could not be published');
      }
    }
  }

  private heard(data: Uint8Array): void {
    let notice: LogLinesStored;
    try {
      notice = LogLinesStored.decode(data);
    } catch {
      return;
    }
    if (notice.collectorId !== this.id) this.feed.publishStoredElsewhere(notice.attemptId, notice.maxSequence);
  }

  private async handle(message: BusMessage): Promise<void> {
    let batch: LogBatch;
    try {
      batch = LogBatch.decode(message.data);
    } catch (err) {
      this.options.logger.error({ err, subject: message.subject }, 'undecodable log batch dropped');
      message.term();
      return;
    }
    try {
      await this.writer.write(toBatchRecord(batch));
    } catch (err) {
      // The store is down (or refused the batch): no ack, so the batch comes back after a pause and
      // every batch behind it waits too — the collector catches up when the store is back.
      if (!this.failing) this.options.logger.warn({ err }, 'the log store failed to store a batch; it will be redelivered');
      this.failing = true;
      message.nak(this.options.storeRetryDelayMs ?? 1000);
      return;
    }
    if (this.failing) {
      this.failing = false;
      this.options.logger.info('the log store is storing batches again');
    }
    await message.ack();
  }

  /** Reads stored lines after `afterSequence`, in order. */
  async readLogs(attemptId: string, afterSequence: number, limit: number): Promise<StoredLogPage> {
    const [lines, status] = await Promise.all([
      this.store.readLines(attemptId, afterSequence, limit),
      this.store.status(attemptId),
    ]);
    return { lines, complete: status.complete };
  }

  /** How far the attempt's stored log reaches (an executor adopting a running Job asks). */
  logProgress(attemptId: string, options?: LogProgressOptions): Promise<LogProgress> {
    return readLogProgress(this.store, attemptId, options);
  }

  /** The attempt's stored lines after `afterSequence`, then its lines as they are stored (see {@link tailLog}). */
  tailLogs(attemptId: string, afterSequence: number, options: Omit<TailOptions, 'afterSequence'> = {}): AsyncGenerator<LogTailChunk> {
    return tailLog(this.store, this.feed, attemptId, { ...options, afterSequence });
  }

  /** Runs retention and the gap check once, now (the periodic job does the same). */
  runMaintenance(): Promise<void> {
    return this.maintenance.runOnce();
  }

  async stop(): Promise<void> {
    await this.maintenance.stop();
    await this.subscription?.drain();
    this.subscription = undefined;
    await this.notices?.drain();
    this.notices = undefined;
    this.options.logger.info('log-collector stopped');
  }
}
