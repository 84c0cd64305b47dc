import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { LogEntry, type TailLogsRequest, type TailLogsResponse } from '@skein/proto';
import { writeWithBackpressure } from '@skein/log-collector';
import { tailTooSlow, type LogMethods } from './log-methods';
import { serveSse } from './sse';
import { toApiError, toGrpcError } from './status';

/**
 * TailLogs over the two transports: gRPC server streaming and Server-Sent Events. Both write with
 * backpressure — a response is written only once the previous one was taken — so a slow client holds
 * at most one response here; the collector's tail bounds what waits behind it, and a client that
 * takes nothing for `stallTimeoutMs` is ended with RESOURCE_EXHAUSTED.
 */
export interface TailTransportOptions {
  /** @default 30000 */
  readonly stallTimeoutMs?: number;
  /** SSE comment sent when nothing else was, so proxies keep the connection open. @default 15000 */
  readonly keepAliveMs?: number;
}

function lastSequenceOf(response: TailLogsResponse, previous: number): number {
  return response.entries[response.entries.length - 1]?.sequence ?? previous;
}

/** The grpc-js handler of TailLogs. */
export function tailLogsGrpcHandler(methods: Pick<LogMethods, 'tailLogs'>, logger: Logger, options: TailTransportOptions = {}) {
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  return (call: ServerWritableStream<TailLogsRequest, TailLogsResponse>): void => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    let last = call.request.afterSequence;
    void (async () => {
      try {
        for await (const response of await methods.tailLogs(call.request, { signal: abort.signal })) {
          last = lastSequenceOf(response, last);
          await writeWithBackpressure(call, response, stallTimeoutMs, () => tailTooSlow(last));
          if (response.complete) break;
        }
        if (!abort.signal.aborted) call.end();
      } catch (err) {
        if (abort.signal.aborted) return;
        call.emit('error', toGrpcError(toApiError(err, logger, 'TailLogs')));
      } finally {
        abort.abort();
      }
    })();
  };
}

/** One SSE event per line (`id` = its sequence, so `Last-Event-ID` resumes), then `end`. */
function sseEvents(response: TailLogsResponse): string {
  let text = '';
  for (const entry of response.entries) text += `id: ${entry.sequence}\nevent: entry\ndata: ${JSON.stringify(LogEntry.toJSON(entry))}\n\n`;
  return text;
}

/**
 * `GET /v1/workflows/{w}/runs/{r}/tasks/{t}/logs:follow` — TailLogs as Server-Sent Events: `entry`
 * events (a LogEntry in proto3 JSON each), then `end` (`{"attempt":N,"complete":true}`). An error
 * before the first event is an ordinary JSON error response; after it, an `error` event with the
 * google.rpc.Status. Query: `attempt`, `afterSequence`; the `Last-Event-ID` header overrides
 * `afterSequence`, as browsers send it when they reconnect.
 */
export function followLogsSse(methods: Pick<LogMethods, 'tailLogs'>, logger: Logger, options: TailTransportOptions & {
  readonly request: (req: Request) => TailLogsRequest;
}) {
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  return async (req: Request, res: Response): Promise<void> => {
    let last = 0;
    await serveSse<TailLogsResponse>(res, logger, {
      method: 'TailLogs',
      keepAliveMs,
      open: async (signal) => {
        const request = options.request(req);
        last = request.afterSequence;
        return methods.tailLogs(request, { signal });
      },
      write: async (response, out) => {
        last = lastSequenceOf(response, last);
        if (response.entries.length > 0) await writeWithBackpressure(out, sseEvents(response), stallTimeoutMs, () => tailTooSlow(last));
        if (!response.complete) return false;
        out.write(`event: end\ndata: ${JSON.stringify({ attempt: response.attempt, complete: true })}\n\n`);
        return true;
      },
    });
  };
}

