import * as grpc from '@grpc/grpc-js';
import {
  LogCollectorServiceClient, LogCollectorServiceService, ReadLogsRequest, ReadLogsResponse, type LogCollectorServiceServer,
} from '@skein/proto';
import type { LogStreamCode } from '@skein/store';
import type { LogCollector, StoredLogPage } from './log-collector';

const MAX_READ = 10_000;

/** The internal LogCollectorService (read by the api service) backed by a LogCollector. */
export function logCollectorGrpcImplementation(collector: Pick<LogCollector, 'readLogs'>): LogCollectorServiceServer {
  return {
    readLogs(call, callback) {
      const { attemptId, afterSequence, limit } = call.request;
      if (!attemptId) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'attempt_id is required' });
        return;
      }
      collector.readLogs(attemptId, Math.max(0, afterSequence), Math.min(Math.max(1, limit || 1000), MAX_READ))
        .then((page) => callback(null, ReadLogsResponse.fromPartial({
          lines: page.lines.map((l) => ({ sequence: l.sequence, stream: l.stream, time: l.time, text: l.text })),
          complete: page.complete,
        })))
        .catch(() => callback({ code: grpc.status.UNAVAILABLE, details: 'the log store is unavailable' }));
    },
  };
}

export function addLogCollectorService(server: grpc.Server, collector: Pick<LogCollector, 'readLogs'>): void {
  server.addService(LogCollectorServiceService, logCollectorGrpcImplementation(collector));
}

/** Log reads over internal gRPC (the api service's LogReader when distributed). */
export function createLogCollectorClient(options: { address: string; deadlineMs?: number }) {
  const client = new LogCollectorServiceClient(options.address, grpc.credentials.createInsecure());
  return {
    readLogs(attemptId: string, afterSequence: number, limit: number): Promise<StoredLogPage> {
      return new Promise((resolve, reject) => {
        client.readLogs(ReadLogsRequest.fromPartial({ attemptId, afterSequence, limit }), new grpc.Metadata(),
          { deadline: new Date(Date.now() + (options.deadlineMs ?? 10_000)) },
          (err, res) => (err ? reject(err) : resolve({
            lines: res.lines.map((l) => ({ sequence: l.sequence, stream: l.stream as LogStreamCode, time: l.time ?? new Date(0), text: l.text })),
            complete: res.complete,
          })));
      });
    },
    close(): void {
      client.close();
    },
  };
}
