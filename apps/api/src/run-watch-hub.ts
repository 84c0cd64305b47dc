import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { runFingerprints } from '@skein/store';
import { ApiError } from './errors';

/**
 * Tells WatchRun streams when their run changed.
 *
 * Why polling, and why this is bounded: the api has no feed of run changes when it runs apart from
 * the scheduler (the scheduler publishes nothing the api consumes), and a PostgreSQL trigger with
 * NOTIFY would add work to every state change on the scheduler's hot path for the sake of the rare
 * watcher. So one hub per api process asks PostgreSQL every `pollIntervalMs`, in ONE indexed query
 * for every watched run at once, for a digest of what WatchRun shows, and wakes only the watchers
 * whose run's digest changed. The cost is one small query per interval while at least one stream is
 * open (none otherwise), whatever the number of streams; a watcher re-reads its run only when it
 * changed. The same code serves standalone and distributed deployments. A watcher busy writing to a
 * slow client is not waiting here, so changes meanwhile are coalesced into its next message.
 */
export interface RunWatchHubOptions {
  readonly pool: Pool;
  readonly logger: Logger;
  /** How often watched runs are checked. @default 100 */
  readonly pollIntervalMs?: number;
}

export interface RunWatchHub {
  /** The run's current digest; undefined when the run does not exist. */
  fingerprint(runId: string): Promise<string | undefined>;
  /**
   * Resolves with the run's digest once it differs from `known` (undefined: the run is gone), or
   * with `known` when `signal` aborts. Rejects when the database cannot be read, and with
   * UNAVAILABLE (`API_STOPPING`) once the hub is closed.
   */
  changed(runId: string, known: string, signal: AbortSignal): Promise<string | undefined>;
  /** Number of waiting watchers (for tests and metrics). */
  readonly waiting: number;
  /** Stops polling and fails every waiter with UNAVAILABLE, so open streams end. Idempotent. */
  close(): void;
}

interface Waiter {
  readonly runId: string;
  readonly known: string;
  settle(result: { fp: string | undefined } | { error: unknown }): void;
}

const stopping = () => new ApiError(GrpcStatus.UNAVAILABLE, 'API_STOPPING', 'the api is stopping: call WatchRun again');

export function createRunWatchHub(options: RunWatchHubOptions): RunWatchHub {
  const interval = options.pollIntervalMs ?? 100;
  const waiters = new Set<Waiter>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = () => {
    if (timer || closed || waiters.size === 0) return;
    timer = setTimeout(() => void poll(), interval);
  };

  async function poll(): Promise<void> {
    const batch = [...waiters];
    try {
      const digests = await runFingerprints(options.pool, [...new Set(batch.map((w) => w.runId))]);
      for (const waiter of batch) {
        const fp = digests.get(waiter.runId);
        if (fp !== waiter.known) waiter.settle({ fp });
      }
    } catch (error) {
      options.logger.warn({ err: error }, 'WatchRun could not read run changes');
      for (const waiter of batch) waiter.settle({ error });
    } finally {
      timer = undefined;
      schedule();
    }
  }

  return {
    async fingerprint(runId) {
      return (await runFingerprints(options.pool, [runId])).get(runId);
    },

    changed(runId, known, signal) {
      if (closed) return Promise.reject(stopping());
      if (signal.aborted) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          runId,
          known,
          settle: (result) => {
            if (!waiters.delete(waiter)) return;
            signal.removeEventListener('abort', onAbort);
            if ('error' in result) reject(result.error as Error);
            else resolve(result.fp);
          },
        };
        const onAbort = () => waiter.settle({ fp: known });
        signal.addEventListener('abort', onAbort, { once: true });
        waiters.add(waiter);
        schedule();
      });
    },

    get waiting() {
      return waiters.size;
    },

    close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      for (const waiter of [...waiters]) waiter.settle({ error: stopping() });
    },
  };
}
