import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Bus } from '@skein/bus';
import { claimStaleOutbox, deleteOutbox, withTransaction, type StoredOutboxMessage } from '@skein/store';

export interface OutboxPublisherOptions {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Rows older than this are taken to be orphaned by a dead publisher and re-published. @default 5000 */
  readonly staleAfterMs?: number;
  /** How often to look for orphaned rows. @default 1000 */
  readonly sweepIntervalMs?: number;
}

/** Publishes awaiting their acknowledgement at once, per call: enough to keep the broker busy. */
const MAX_PUBLISHES_IN_FLIGHT = 256;

/**
 * Outbox rows one sweep takes. A batch row holds a whole write's messages (up to a 5,000-task run's), and
 * a crash leaves at most one per write in flight, so a few dozen rows bound the memory a sweep needs.
 */
const SWEEP_ROWS = 32;

/** Calls `fn` for each message in order, at most {@link MAX_PUBLISHES_IN_FLIGHT} awaited at once. */
async function inLanes(messages: readonly StoredOutboxMessage[], fn: (m: StoredOutboxMessage) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < messages.length) await fn(messages[next++] as StoredOutboxMessage);
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PUBLISHES_IN_FLIGHT, messages.length) }, lane));
}

/**
 * Publishes outbox rows right after the transaction that wrote them commits (the hot path), has them
 * deleted by the next scheduler transaction (`takeSent`) or, when none comes within 20 ms, in a batch
 * of its own, and sweeps up rows whose publisher died before sending. The
 * stream deduplicates on the message id, so a row published twice is delivered once.
 */
export class OutboxPublisher {
  private readonly sent: number[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: OutboxPublisherOptions) {}

  start(): void {
    const interval = this.options.sweepIntervalMs ?? 1000;
    this.sweepTimer = setInterval(() => {
      this.sweeping = this.sweeping.then(async () => { await this.sweep(); }).catch((err) => this.options.logger.warn({ err }, 'outbox sweep failed'));
    }, interval);
    this.sweepTimer.unref();
  }

  /**
   * Publishes committed messages, in order, at most {@link MAX_PUBLISHES_IN_FLIGHT} awaiting their
   * acknowledgement at once (a 5,000-task run's dispatches no longer hold 5,000 requests in memory at
   * once). A row is handed over for deletion once every message it holds is published (a batch row
   * holds all of one write's); a row with a message that failed is left for the sweeper, which
   * publishes all of it again (the stream drops the copies).
   */
  async publish(messages: readonly StoredOutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const unsent = new Map<number, number>();
    for (const m of messages) unsent.set(m.id, (unsent.get(m.id) ?? 0) + 1);
    const failed = new Set<number>();
    await inLanes(messages, async (m) => {
      try {
        await this.options.bus.publish(m.subject, m.payload, { msgId: m.msgId, headers: m.headers });
      } catch (err) {
        if (!failed.has(m.id)) this.options.logger.warn({ err, msgId: m.msgId }, 'publish failed; the outbox sweeper will retry');
        failed.add(m.id);
        return;
      }
      const left = (unsent.get(m.id) as number) - 1;
      unsent.set(m.id, left);
      if (left === 0 && !failed.has(m.id)) this.sent.push(m.id);
    });
    this.scheduleFlush();
  }

  /**
   * Hands over the ids of rows published so far, for the next scheduler transaction to delete in its
   * one write (no statement or commit of their own); the flush timer deletes only what nobody took.
   */
  takeSent(): number[] {
    return this.sent.splice(0, this.sent.length);
  }

  /** Re-publishes rows left behind by a publisher that died between commit and send. */
  async sweep(): Promise<number> {
    if (this.stopped) return 0;
    return withTransaction(this.options.pool, async (tx) => {
      const stale = await claimStaleOutbox(tx, this.options.staleAfterMs ?? 5000, SWEEP_ROWS);
      // Every message or none: a failure rolls back, and the rows stay for the next sweep.
      const errors: unknown[] = [];
      await inLanes(stale, (m) => this.options.bus.publish(m.subject, m.payload, { msgId: m.msgId, headers: m.headers }).catch((err: unknown) => {
        errors.push(err);
      }));
      if (errors.length > 0) throw errors[0];
      await deleteOutbox(tx, [...new Set(stale.map((m) => m.id))]);
      if (stale.length > 0) this.options.logger.info({ count: stale.length }, 're-published orphaned outbox messages');
      return stale.length;
    });
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, 20);
  }

  private async flush(): Promise<void> {
    const ids = this.sent.splice(0, this.sent.length);
    if (ids.length === 0) return;
    try {
      await deleteOutbox(this.options.pool, ids);
    } catch (err) {
      // Left in place, the rows are re-published by a sweep and deduplicated by the stream.
      this.options.logger.warn({ err, count: ids.length }, 'could not delete sent outbox rows');
    }
  }

  /** Stops the sweeper and deletes what was sent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.sweeping;
    await this.flushing;
    await this.flush();
  }
}
