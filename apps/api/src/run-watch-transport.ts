import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { WatchRunResponse, type WatchRunRequest } from '@skein/proto';
import { writeWithBackpressure } from '@skein/log-collector';
import { watchTooSlow, type WatchMethods } from './run-watch';
import { serveSse } from './sse';
import { toApiError, toGrpcError } from './status';

/**
 * WatchRun over gRPC server streaming and Server-Sent Events. As with TailLogs, a message is written
 * only once the previous one was taken, so a slow client holds at most one message here (the watch
 * re-reads its run after each write, so changes meanwhile are coalesced, never queued); a client
 * that takes nothing for `stallTimeoutMs` is ended with RESOURCE_EXHAUSTED (`WATCH_TOO_SLOW`).
 */
export interface WatchTransportOptions {
  /** @default 30000 */
  readonly stallTimeoutMs?: number;
  /** SSE comment sent every so often, so proxies keep the connection open. @default 15000 */
  readonly keepAliveMs?: number;
}

/** The grpc-js handler of WatchRun. */
export function watchRunGrpcHandler(methods: WatchMethods, logger: Logger, options: WatchTransportOptions = {}) {
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  return (call: ServerWritableStream<WatchRunRequest, WatchRunResponse>): void => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    void (async () => {
      try {
        for await (const response of await methods.watchRun(call.request, { signal: abort.signal })) {
          await writeWithBackpressure(call, response, stallTimeoutMs, watchTooSlow);
        }
        if (!abort.signal.aborted) call.end();
      } catch (err) {
        if (abort.signal.aborted) return;
        call.emit('error', toGrpcError(toApiError(err, logger, 'WatchRun')));
      } finally {
        abort.abort();
      }
    })();
  };
}

/**
 * `GET /v1/workflows/{w}/runs/{r}:watch` — WatchRun as Server-Sent Events: a `run` event per
 * message (a WatchRunResponse in proto3 JSON), then `end` once the run has ended. An error before
 * the first event is an ordinary JSON error response; after it, an `error` event holding the
 * google.rpc.Status.
 */
export function watchRunSse(methods: WatchMethods, logger: Logger, options: WatchTransportOptions & {
  readonly request: (req: Request) => WatchRunRequest;
}) {
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  return async (req: Request, res: Response): Promise<void> => {
    await serveSse<WatchRunResponse>(res, logger, {
      method: 'WatchRun',
      keepAliveMs,
      endEvent: 'event: end\ndata: {}\n\n',
      open: (signal) => methods.watchRun(options.request(req), { signal }),
      write: async (response, out) => {
        await writeWithBackpressure(out, `event: run\ndata: ${JSON.stringify(WatchRunResponse.toJSON(response))}\n\n`, stallTimeoutMs, watchTooSlow);
        return false;
      },
    });
  };
}
