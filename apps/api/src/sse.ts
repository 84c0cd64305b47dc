import type { Response } from 'express';
import type { Logger } from 'pino';
import { httpStatusOf, toApiError, toJsonStatus } from './status';

const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' };

export interface SseStream<T> {
  /** The API method, for error logs. */
  readonly method: string;
  /** A comment line this often keeps proxies from closing an idle stream. */
  readonly keepAliveMs: number;
  /** Opens the stream; an error here (before any event) is an ordinary JSON error response. */
  open(signal: AbortSignal): Promise<AsyncIterable<T>>;
  /** Writes one response's events (with backpressure); true when the stream is complete and ends now. */
  write(response: T, res: Response): Promise<boolean>;
  /** Written when the responses run out without `write` having ended the stream. */
  readonly endEvent?: string;
}

/**
 * Serves a server-streaming API method as Server-Sent Events: the headers once the method has
 * accepted the request, keep-alive comments, then its events; an error after the first event is an
 * `error` event holding the google.rpc.Status. A client that goes away aborts the method.
 */
export async function serveSse<T>(res: Response, logger: Logger, stream: SseStream<T>): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  let started = false;
  let keepAlive: NodeJS.Timeout | undefined;
  try {
    const responses = await stream.open(abort.signal);
    res.status(200).set(SSE_HEADERS);
    res.flushHeaders();
    started = true;
    keepAlive = setInterval(() => res.write(': keep-alive\n\n'), stream.keepAliveMs);
    let ended = false;
    for await (const response of responses) {
      // The client left while this response was being produced: nothing to write it to.
      if (abort.signal.aborted) break;
      if (await stream.write(response, res)) {
        ended = true;
        break;
      }
    }
    if (!abort.signal.aborted) res.end(ended ? undefined : stream.endEvent);
  } catch (err) {
    if (abort.signal.aborted) return;
    const apiError = toApiError(err, logger, stream.method);
    if (!started) res.status(httpStatusOf(apiError.code)).json(toJsonStatus(apiError));
    else res.end(`event: error\ndata: ${JSON.stringify(toJsonStatus(apiError))}\n\n`);
  } finally {
    clearInterval(keepAlive);
  }
}
