import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { WatchRunRequest, WatchRunResponse } from '@skein/proto';
import type { WatchMethods } from './run-watch';
import { watchRunGrpcHandler } from './run-watch-transport';

/** A gRPC server stream whose client never reads: the first write fills it, nothing drains it. */
function stalledCall(): ServerWritableStream<WatchRunRequest, WatchRunResponse> & { failure: Promise<{ code?: number }> } {
  const stream = new Writable({ objectMode: true, highWaterMark: 1, write: () => undefined });
  const failure = new Promise<{ code?: number }>((resolve) => stream.once('error', resolve));
  return Object.assign(stream, { request: { name: 'workflows/-/runs/r' }, failure }) as never;
}

describe('WatchRun over gRPC, against a client that stops reading', () => {
  it('ends the stream with RESOURCE_EXHAUSTED (WATCH_TOO_SLOW) and stops watching', async () => {
    let finished = false;
    const methods: WatchMethods = {
      watchRun: () => Promise.resolve((async function* () {
        try {
          for (let i = 0; ; i++) yield { run: undefined, taskRuns: [] };
        } finally {
          finished = true;
        }
      })()),
    };
    const call = stalledCall();
    watchRunGrpcHandler(methods, pino({ level: 'silent' }), { stallTimeoutMs: 100 })(call);
    const err = await call.failure;
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(String((err as { details?: string }).details)).toContain('too slowly');
    expect(finished).toBe(true);
  });
});
