import type { LogBatchRecord, LogStatus, LogStore } from '@skein/store';

interface Queued {
  readonly batch: LogBatchRecord;
  resolve(): void;
  reject(err: unknown): void;
}

export interface BatchWriterOptions {
  /** Lines stored in one transaction at most (a single larger batch is still stored whole). @default 20000 */
  readonly maxLinesPerWrite?: number;
  /** Called after each commit, per attempt, with the lines the transaction held and the attempt's status. */
  readonly onStored?: (batches: readonly LogBatchRecord[], statuses: ReadonlyMap<string, LogStatus>) => void;
}

/**
 * Group commit for log batches: while one transaction runs, batches that arrive queue up, and the
 * next transaction stores all of them at once. Each caller's promise settles when the transaction
 * that held its batch committed (or failed), so the caller acks only stored lines. One transaction
 * at a time also keeps commits close to the order batches arrived in, which live tails like.
 */
export class BatchWriter {
  private queue: Queued[] = [];
  private writing = false;

  constructor(private readonly store: LogStore, private readonly options: BatchWriterOptions = {}) {}

  /** Resolves once the batch is committed. */
  write(batch: LogBatchRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    const max = this.options.maxLinesPerWrite ?? 20_000;
    try {
      while (this.queue.length > 0) {
        let lines = 0;
        let take = 0;
        while (take < this.queue.length && (take === 0 || lines + this.queue[take]!.batch.lines.length <= max)) {
          lines += this.queue[take]!.batch.lines.length;
          take += 1;
        }
        const group = this.queue.splice(0, take);
        const batches = group.map((q) => q.batch);
        try {
          const statuses = await this.store.storeBatches(batches);
          for (const q of group) q.resolve();
          this.options.onStored?.(batches, statuses);
        } catch (err) {
          for (const q of group) q.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
