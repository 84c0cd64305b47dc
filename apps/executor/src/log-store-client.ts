import * as grpc from '@grpc/grpc-js';
import { bearerTokenInterceptor } from '@skein/config';
import { GetLogProgressRequest, LogCollectorServiceClient, TailStoredLogsRequest, type TailStoredLogsResponse } from '@skein/proto';

/** How far an attempt's stored log reaches, as the log collector answers. */
export interface StoredLogProgress {
  /** The highest sequence stored; 0 when nothing is. */
  readonly lastSequence: number;
  /** The time of the last stored stdout/stderr line; absent when none is stored. */
  readonly lastOutputTime?: Date;
  /** Stored stdout/stderr lines at exactly `lastOutputTime`. */
  readonly outputLinesAtLastTime: number;
  readonly complete: boolean;
  /** Bytes of stored stdout/stderr text (present when asked `withOutputBytes`): the size cap used so far. */
  readonly outputBytes?: number;
}

/**
 * What the executor asks the log store (the log collector's internal gRPC): where an adopted
 * attempt's log resumes, and whether an attempt's log is stored whole before its Job is deleted.
 */
export interface LogStoreClient {
  /**
   * Rejects when the collector does not answer within the deadline. `withOutputBytes` also sums the
   * stored output's size (the collector reads the whole log for it).
   */
  progress(attemptId: string, options?: { withOutputBytes?: boolean }): Promise<StoredLogProgress>;
  /**
   * Resolves true once every line of the attempt's log (whose final count is `count`) is stored,
   * false when the store flagged lines missing or `timeoutMs` passed, or the collector failed.
   */
  waitUntilStored(attemptId: string, count: number, timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** Options of {@link createLogStoreClient}. */
export interface LogStoreClientOptions {
  /** `host:port` of a log collector's internal gRPC. */
  readonly address: string;
  /** The deadline of a progress call. @default 5000 */
  readonly deadlineMs?: number;
  /** The shared secret of Skein's internal gRPC (`SKEIN_INTERNAL_TOKEN`). */
  readonly internalToken: string;
}

/** A {@link LogStoreClient} over the LogCollectorService. */
export function createLogStoreClient(options: LogStoreClientOptions): LogStoreClient {
  const client = new LogCollectorServiceClient(options.address, grpc.credentials.createInsecure(), {
    interceptors: [bearerTokenInterceptor(options.internalToken)],
  });
  const deadlineMs = options.deadlineMs ?? 5000;
  const progress = (attemptId: string, progressOptions: { withOutputBytes?: boolean } = {}): Promise<StoredLogProgress> => new Promise((resolve, reject) => {
    const withOutputBytes = progressOptions.withOutputBytes === true;
    client.getLogProgress(GetLogProgressRequest.fromPartial({ attemptId, withOutputBytes }), new grpc.Metadata(),
      { deadline: new Date(Date.now() + deadlineMs) },
      (err, res) => (err ? reject(err) : resolve({
        lastSequence: res.lastSequence, outputLinesAtLastTime: res.outputLinesAtLastTime, complete: res.complete,
        ...(res.lastOutputTime && { lastOutputTime: res.lastOutputTime }),
        ...(withOutputBytes && { outputBytes: res.outputBytes }),
      })));
  });
  return {
    progress,
    async waitUntilStored(attemptId, count, timeoutMs) {
      const until = Date.now() + timeoutMs;
      // A tail from the final count sends no lines, only its end once the final batch is stored: no
      // polling for the common case. Its deadline bounds the wait.
      const call = client.tailStoredLogs(TailStoredLogsRequest.fromPartial({ attemptId, afterSequence: count }), new grpc.Metadata(),
        { deadline: new Date(until) });
      try {
        let ended = false;
        for await (const message of call as AsyncIterable<TailStoredLogsResponse>) {
          if (message.complete) ended = true;
        }
        if (!ended) return false;
      } catch {
        return false;
      } finally {
        call.cancel();
      }
      // The final batch is stored; an earlier one may still be on its way (batches are published
      // several at a time). The status counts every stored line.
      for (let pauseMs = 20; ; pauseMs = Math.min(1000, pauseMs * 2)) {
        try {
          if ((await progress(attemptId)).complete) return true;
        } catch {
          return false;
        }
        if (Date.now() + pauseMs > until) return false;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    },
    close() {
      client.close();
    },
  };
}
