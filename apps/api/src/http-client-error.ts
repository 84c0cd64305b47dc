import { status as GrpcStatus } from '@grpc/grpc-js';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from './errors';
import { toJsonStatus } from './status';

/**
 * Node's HTTP server answers a request it cannot parse (a URL and headers over its 16 KiB limit,
 * broken HTTP) before express sees it, with an empty body. This answers the same status with a
 * google.rpc.Status body, like every other REST error. Attach to the server's `clientError` event.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const httpStatus = tooLarge ? 431 : timedOut ? 408 : 400;
  const apiError = tooLarge
    ? new ApiError(GrpcStatus.INVALID_ARGUMENT, 'HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB: send long values in a JSON body')
    : timedOut
      ? new ApiError(GrpcStatus.DEADLINE_EXCEEDED, 'REQUEST_TIMEOUT', 'the request was not received in time')
      : new ApiError(GrpcStatus.INVALID_ARGUMENT, 'MALFORMED_HTTP', 'the request is not valid HTTP/1.1');
  const body = JSON.stringify(toJsonStatus(apiError));
  socket.end(`HTTP/1.1 ${httpStatus} ${STATUS_CODES[httpStatus] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
