import type { Pool, PoolClient } from 'pg';
import {
  deleteLogAttempt, deleteLogLinesBatch, flagLogGaps, getLogStatus, insertLogLines, listExpiredLogAttempts, readLogLines,
  recordLogProgress, sumLogOutputBytes, type LogExpiry, type LogLineRecord, type LogStatus,
} from './logs';

/** Lines of one attempt to store, as one executor batch carried them. */
export interface LogBatchRecord {
  readonly attemptId: string;
  readonly lines: readonly LogLineRecord[];
  /** Set on an attempt's last batch: how many lines its log has in all. */
  readonly finalCount: number | null;
  /** The attempt's workflow, for its retention; absent (or empty) when the executor did not say. */
  readonly workflow?: string;
}

/** What one retention pass did. */
export interface LogRetentionResult {
  readonly attempts: number;
  readonly lines: number;
}

/**
 * Where the log-collector keeps lines. Writes are idempotent on (attempt, sequence): storing a batch
 * again stores nothing new. The collector is the only writer.
 */
export interface LogStore {
  /**
   * Stores several batches atomically — all or none — so the collector can ack them all once this
   * resolves. Returns the status of each attempt written to, after the write.
   */
  storeBatches(batches: readonly LogBatchRecord[]): Promise<Map<string, LogStatus>>;
  /** Lines after `afterSequence`, in sequence order. */
  readLines(attemptId: string, afterSequence: number, limit: number): Promise<LogLineRecord[]>;
  status(attemptId: string): Promise<LogStatus>;
  /**
   * Bytes (UTF-8) of the stdout and stderr text stored for an attempt, system lines not counted: how
   * much of its size cap an adopted attempt has used. Reads the whole log; ask only when needed.
   */
  outputBytes(attemptId: string): Promise<number>;
  /** Flags attempts whose final count is known but lines have been missing for `graceMs`. */
  flagGaps(graceMs: number): Promise<{ attemptId: string; missing: number }[]>;
  /**
   * Deletes the logs of the attempts `expiry` selects (unchanged since its `before`), `batchLines`
   * lines per statement, at most `maxAttempts` attempts per call.
   */
  deleteExpired(expiry: LogExpiry, options: { batchLines: number; maxAttempts: number }): Promise<LogRetentionResult>;
}

/** Runs `fn` in a transaction; a failed client is destroyed rather than returned to the pool. */
async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection that drops between two statements emits 'error' on the client, not on a query:
  // without a listener that would crash the process. The next statement fails and rolls back.
  let lost: Error | undefined;
  const onError = (err: Error) => { lost = err; };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.off('error', onError);
    client.release(lost);
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    // A connection that failed mid-transaction may be broken: do not hand it to the next caller.
    client.off('error', onError);
    client.release(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/** The default log store: the `log_lines` and `log_attempts` tables. */
export function createPgLogStore(pool: Pool): LogStore {
  return {
    storeBatches(batches) {
      return inTransaction(pool, async (tx) => {
        // One INSERT per attempt per call: the collector hands over everything queued at once.
        const byAttempt = new Map<string, { lines: LogLineRecord[]; finalCount: number | null; workflow: string | null }>();
        for (const batch of batches) {
          const entry = byAttempt.get(batch.attemptId) ?? { lines: [], finalCount: null, workflow: null };
          entry.lines.push(...batch.lines);
          if (batch.finalCount !== null) entry.finalCount = batch.finalCount;
          if (batch.workflow) entry.workflow = batch.workflow;
          byAttempt.set(batch.attemptId, entry);
        }
        const statuses = new Map<string, LogStatus>();
        for (const [attemptId, { lines, finalCount, workflow }] of byAttempt) {
          const added = await insertLogLines(tx, attemptId, lines);
          statuses.set(attemptId, await recordLogProgress(tx, attemptId, added, finalCount, workflow));
        }
        return statuses;
      });
    },
    readLines: (attemptId, afterSequence, limit) => readLogLines(pool, attemptId, afterSequence, limit),
    status: (attemptId) => getLogStatus(pool, attemptId),
    outputBytes: (attemptId) => sumLogOutputBytes(pool, attemptId),
    flagGaps: (graceMs) => flagLogGaps(pool, graceMs),
    async deleteExpired(expiry, options) {
      let attempts = 0;
      let lines = 0;
      for (const attemptId of await listExpiredLogAttempts(pool, expiry, options.maxAttempts)) {
        for (;;) {
          const deleted = await deleteLogLinesBatch(pool, attemptId, options.batchLines);
          lines += deleted;
          if (deleted < options.batchLines) break;
        }
        if (await deleteLogAttempt(pool, attemptId, expiry.before)) attempts += 1;
      }
      return { attempts, lines };
    },
  };
}
