import type { Writable } from 'node:stream';

/**
 * Writes to a stream (a gRPC server stream, an HTTP response) with backpressure: resolves at once
 * when the stream takes more, else when it drains. Rejects with the timeout error when it does not
 * drain within `stallTimeoutMs` (a reader that stopped reading), or when the stream closes first.
 */
export function writeWithBackpressure(stream: Writable, chunk: unknown, stallTimeoutMs: number, onStall: () => Error): Promise<void> {
  if (stream.write(chunk)) return Promise.resolve();
  // A stream that already closed will emit neither 'drain' nor 'close' again: waiting would only hold
  // the caller (and its timers) until the stall timeout.
  if (stream.destroyed) return Promise.reject(new Error('the stream closed'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the stream closed'));
    const timer = setTimeout(() => done(onStall()), stallTimeoutMs);
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
