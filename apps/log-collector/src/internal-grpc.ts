import * as grpc from '@grpc/grpc-js';
import { bearerTokenInterceptor } from '@skein/config';
import {
  GetLogProgressRequest, GetLogProgressResponse, LogCollectorServiceClient, LogCollectorServiceService, ReadLogsRequest, ReadLogsResponse, TailStoredLogsRequest, TailStoredLogsResponse,
  type LogCollectorServiceServer,
} from '@skein/proto';
import type { LogLineRecord, LogStreamCode } from '@skein/store';
import { isSlowReader, SlowReaderError } from './errors';
import type { LogCollector, StoredLogPage } from './log-collector';
import type { LogProgress, LogProgressOptions } from './log-progress';
import type { LogTailChunk } from './log-tail';
import { writeWithBackpressure } from './stream-writer';

// The api's largest page is 10,000 lines and it asks for one more, to learn whether another page exists.
const MAX_READ = 10_001;

export interface LogCollectorGrpcOptions {
  /** A tail whose reader has not taken a message for this long is ended with RESOURCE_EXHAUSTED. @default 30000 */
  readonly tailStallTimeoutMs?: number;
}

type ServedCollector = Pick<LogCollector, 'readLogs' | 'tailLogs' | 'logProgress'>;

function toWireLine(l: LogLineRecord) {
  return { sequence: l.sequence, stream: l.stream, time: l.time, text: l.text };
}

function fromWireLine(l: { sequence: number; stream: number; time?: Date | undefined; text: string }): LogLineRecord {
  return { sequence: l.sequence, stream: l.stream as LogStreamCode, time: l.time ?? new Date(0), text: l.text };
}

/** The internal LogCollectorService (read by the api service) backed by a LogCollector. */
export function logCollectorGrpcImplementation(collector: ServedCollector, options: LogCollectorGrpcOptions = {}): LogCollectorServiceServer {
  const stallTimeoutMs = options.tailStallTimeoutMs ?? 30_000;
  return {
    readLogs(call, callback) {
      const { attemptId, afterSequence, limit } = call.request;
      if (!attemptId) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'attempt_id is required' });
        return;
      }
      collector.readLogs(attemptId, Math.max(0, afterSequence), Math.min(Math.max(1, limit || 1000), MAX_READ))
        .then((page) => callback(null, ReadLogsResponse.fromPartial({ lines: page.lines.map(toWireLine), complete: page.complete })))
        .catch(() => callback({ code: grpc.status.UNAVAILABLE, details: 'the log store is unavailable' }));
    },
    tailStoredLogs(call) {
      const { attemptId, afterSequence } = call.request;
      if (!attemptId) {
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'attempt_id is required' });
        return;
      }
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      call.on('close', () => abort.abort());
      let last = Math.max(0, afterSequence);
      void (async () => {
        try {
          for await (const chunk of collector.tailLogs(attemptId, last, { signal: abort.signal })) {
            if (chunk.lines.length > 0) last = chunk.lines[chunk.lines.length - 1]!.sequence;
            const message = TailStoredLogsResponse.fromPartial({ lines: chunk.lines.map(toWireLine), complete: chunk.end?.complete ?? false });
            await writeWithBackpressure(call, message, stallTimeoutMs, () => new SlowReaderError(last, `no message taken for ${stallTimeoutMs} ms`));
            if (chunk.end) break;
          }
          if (!abort.signal.aborted) call.end();
        } catch (err) {
          if (abort.signal.aborted) return;
          call.emit('error', isSlowReader(err)
            ? { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message }
            : { code: grpc.status.UNAVAILABLE, details: 'the log store is unavailable' });
        }
      })();
    },
    getLogProgress(call, callback) {
      const { attemptId, withOutputBytes } = call.request;
      if (!attemptId) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'attempt_id is required' });
        return;
      }
      collector.logProgress(attemptId, { withOutputBytes })
        .then((p) => callback(null, GetLogProgressResponse.fromPartial({
          lastSequence: p.lastSequence, lastOutputTime: p.lastOutputTime, outputLinesAtLastTime: p.outputLinesAtLastTime, complete: p.complete,
          outputBytes: p.outputBytes ?? 0,
        })))
        .catch(() => callback({ code: grpc.status.UNAVAILABLE, details: 'the log store is unavailable' }));
    },
  };
}

export function addLogCollectorService(server: grpc.Server, collector: ServedCollector, options: LogCollectorGrpcOptions = {}): void {
  server.addService(LogCollectorServiceService, logCollectorGrpcImplementation(collector, options));
}

/** Log reads and tails over internal gRPC (the api service's LogReader when distributed). */
export function createLogCollectorClient(options: { address: string; deadlineMs?: number; internalToken: string }) {
  const client = new LogCollectorServiceClient(options.address, grpc.credentials.createInsecure(), {
    interceptors: [bearerTokenInterceptor(options.internalToken)],
  });
  return {
    readLogs(attemptId: string, afterSequence: number, limit: number): Promise<StoredLogPage> {
      return new Promise((resolve, reject) => {
        client.readLogs(ReadLogsRequest.fromPartial({ attemptId, afterSequence, limit }), new grpc.Metadata(),
          { deadline: new Date(Date.now() + (options.deadlineMs ?? 10_000)) },
          (err, res) => (err ? reject(err) : resolve({ lines: res.lines.map(fromWireLine), complete: res.complete })));
      });
    },
    /**
     * A live tail. It has no deadline — it lasts as long as the attempt writes — and ends when the
     * signal aborts (which cancels the call). A failed call throws its grpc-js ServiceError
     * (RESOURCE_EXHAUSTED for a reader that fell behind).
     */
    async *tailLogs(attemptId: string, afterSequence: number, tailOptions: { signal?: AbortSignal } = {}): AsyncGenerator<LogTailChunk> {
      const call = client.tailStoredLogs(TailStoredLogsRequest.fromPartial({ attemptId, afterSequence }));
      const cancel = () => call.cancel();
      tailOptions.signal?.addEventListener('abort', cancel);
      try {
        for await (const message of call as AsyncIterable<TailStoredLogsResponse>) {
          const lines = message.lines.map(fromWireLine);
          if (message.complete) {
            yield { lines, end: { complete: true } };
            return;
          }
          yield { lines };
        }
        // A stream that ended without `complete`: the store flagged missing lines.
        yield { lines: [], end: { complete: false } };
      } catch (err) {
        if ((err as { code?: unknown }).code === grpc.status.CANCELLED && tailOptions.signal?.aborted) return;
        throw err;
      } finally {
        tailOptions.signal?.removeEventListener('abort', cancel);
        call.cancel();
      }
    },
    /** How far the attempt's stored log reaches. */
    logProgress(attemptId: string, progressOptions: LogProgressOptions = {}): Promise<LogProgress> {
      const withOutputBytes = progressOptions.withOutputBytes === true;
      return new Promise((resolve, reject) => {
        client.getLogProgress(GetLogProgressRequest.fromPartial({ attemptId, withOutputBytes }), new grpc.Metadata(),
          { deadline: new Date(Date.now() + (options.deadlineMs ?? 10_000)) },
          (err, res) => (err ? reject(err) : resolve({
            lastSequence: res.lastSequence, outputLinesAtLastTime: res.outputLinesAtLastTime, complete: res.complete,
            ...(res.lastOutputTime && { lastOutputTime: res.lastOutputTime }),
            ...(withOutputBytes && { outputBytes: res.outputBytes }),
          })));
      });
    },
    close(): void {
      client.close();
    },
  };
}
