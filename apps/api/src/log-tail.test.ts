import { get, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:http2';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import pino from 'pino';
import { bearerTokenInterceptor } from '@skein/config';
import type { Pool } from 'pg';
import { createInProcessBus, subjects, type Bus } from '@skein/bus';
import { LogCollector } from '@skein/log-collector';
import {
  LogBatch, LogLineStream, LogServiceClient, LogStream, RunServiceClient, TailLogsRequest, TailLogsResponse, WorkflowServiceClient,
} from '@skein/proto';
import { createPool, findTaskAttempt, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { createApiService, type ApiService } from './api-service';
import { decodeErrorDetails } from './status';
import { call, withAuthorization, workflowYaml } from './test-harness';
import { createApiToken } from './token-secrets';
import { createTestScheduler, type TestScheduler } from './test-scheduler';

const silent = pino({ enabled: false });

function batch(attemptId: string, from: number, to: number, finalCount?: number, padding = ''): Uint8Array {
  const lines = [];
  for (let s = from; s <= to; s++) {
    lines.push({ sequence: s, stream: s === 1 ? LogLineStream.LOG_LINE_STREAM_SYSTEM : LogLineStream.LOG_LINE_STREAM_STDOUT, time: new Date(), text: `line ${s}${padding}` });
  }
  return LogBatch.encode({ attemptId, runId: 'r', workflow: 'w', task: 'extract', attempt: 1, lines, finalCount }).finish();
}

/** Every response of a TailLogs call, or its error. */
function tail(client: LogServiceClient, request: Partial<TailLogsRequest>, onResponse?: (r: TailLogsResponse) => void): Promise<{ responses: TailLogsResponse[]; error?: ServiceError }> {
  return new Promise((resolve) => {
    const responses: TailLogsResponse[] = [];
    const stream = client.tailLogs({ parent: '', attempt: 0, afterSequence: 0, ...request });
    stream.on('data', (r: TailLogsResponse) => {
      responses.push(r);
      onResponse?.(r);
    });
    stream.on('error', (error: ServiceError) => resolve({ responses, error }));
    stream.on('end', () => resolve({ responses }));
  });
}

/** The messages of a gRPC body: each a 1-byte compressed flag, a 4-byte length, then the message. */
function decodeGrpcFrames(body: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at + 5 <= body.length;) {
    const length = body.readUInt32BE(at + 1);
    messages.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

const sequences = (responses: readonly TailLogsResponse[]) => responses.flatMap((r) => r.entries.map((e) => e.sequence));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('TailLogs (gRPC and Server-Sent Events)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  let collector: LogCollector;
  let scheduler: TestScheduler;
  let service: ApiService;
  let baseUrl: string;
  let token: string;
  let logs: LogServiceClient;
  let workflows: WorkflowServiceClient;
  let runs: RunServiceClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url, { max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool);
    bus = createInProcessBus();
    await bus.ensureStreams();
    collector = new LogCollector({ pool, bus, logger: silent, maintenance: { intervalMs: 0 } });
    await collector.start();
    scheduler = createTestScheduler(pool);
    service = createApiService({ pool, runs: scheduler.runs, logs: collector, logger: silent, grpcPort: 0, httpPort: 0 });
    const ports = await service.start();
    baseUrl = `http://127.0.0.1:${ports.httpPort}`;
    const address = `127.0.0.1:${ports.grpcPort}`;
    token = (await createApiToken(pool, 'log-tail-test', 'admin')).secret;
    const options = { interceptors: [bearerTokenInterceptor(token)] };
    logs = new LogServiceClient(address, credentials.createInsecure(), options);
    workflows = new WorkflowServiceClient(address, credentials.createInsecure(), options);
    runs = new RunServiceClient(address, credentials.createInsecure(), options);
    await call(workflows.applyWorkflow.bind(workflows), { source: workflowYaml('tailed'), fileName: 'tailed.yaml' });
  });

  afterAll(async () => {
    for (const client of [logs, workflows, runs]) client.close();
    await service.stop();
    await collector.stop();
    await bus.close();
    await scheduler.drain();
    await pool.end();
    await db.drop();
  });

  /** A new run whose `extract` task has started; its task run name and attempt id. */
  async function startedTask(): Promise<{ parent: string; attemptId: string }> {
    const res = await call(runs.triggerRun.bind(runs), { requestId: '', parent: 'workflows/tailed', params: {} });
    const runId = res.run!.name.split('/').pop()!;
    await scheduler.startTask(runId, 'extract');
    const attempt = await findTaskAttempt(pool, runId, 'extract', 0);
    return { parent: `${res.run!.name}/tasks/extract`, attemptId: attempt!.id };
  }

  it('streams history, then live lines, and ends when the log is complete', async () => {
    const { parent, attemptId } = await startedTask();
    await bus.publish(subjects.logs(attemptId), batch(attemptId, 1, 20));
    let published = false;
    const result = await tail(logs, { parent }, () => {
      if (published) return;
      published = true;
      void bus.publish(subjects.logs(attemptId), batch(attemptId, 21, 40)).then(() => bus.publish(subjects.logs(attemptId), batch(attemptId, 41, 45, 45)));
    });
    expect(result.error).toBeUndefined();
    expect(sequences(result.responses)).toEqual(range(1, 45));
    expect(result.responses[0]?.entries[0]).toMatchObject({ attempt: 1, stream: LogStream.LOG_STREAM_SYSTEM, line: 'line 1' });
    expect(result.responses[result.responses.length - 1]?.complete).toBe(true);

    const resumed = await tail(logs, { parent, afterSequence: 40 });
    expect(sequences(resumed.responses)).toEqual(range(41, 45));
  });

  it('answers NOT_FOUND for an unknown run, task or attempt', async () => {
    const { parent } = await startedTask();
    const missing = [
      { parent: 'workflows/tailed/runs/01J00000000000000000000000/tasks/extract', reason: 'RUN_NOT_FOUND' },
      { parent: parent.replace(/extract$/, 'nope'), reason: 'TASK_NOT_FOUND' },
      { parent, attempt: 7, reason: 'ATTEMPT_NOT_FOUND' },
      { parent: parent.replace(/extract$/, 'load'), reason: 'ATTEMPT_NOT_FOUND' },
    ];
    for (const { reason, ...request } of missing) {
      const { error } = await tail(logs, request);
      expect(error?.code).toBe(status.NOT_FOUND);
      expect(decodeErrorDetails(error?.metadata).errorInfo?.reason).toBe(reason);
    }
  });

  it('follows a log as Server-Sent Events, resuming from Last-Event-ID', async () => {
    const { parent, attemptId } = await startedTask();
    await bus.publish(subjects.logs(attemptId), batch(attemptId, 1, 3));
    const res = await fetch(`${baseUrl}/v1/${parent}/logs:follow`, { headers: withAuthorization({}, token) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await bus.publish(subjects.logs(attemptId), batch(attemptId, 4, 5, 5));
    const text = await res.text();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    expect(text).toContain('data: {"attempt":1,"sequence":2,"stream":"LOG_STREAM_STDOUT"');
    expect(text).toMatch(/event: end\ndata: \{"attempt":1,"complete":true\}\n\n$/);

    const resumed = await (await fetch(`${baseUrl}/v1/${parent}/logs?follow=true`, { headers: withAuthorization({ 'Last-Event-ID': '3' }, token) })).text();
    expect([...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([4, 5]);

    const missing = await fetch(`${baseUrl}/v1/${parent.replace(/extract$/, 'nope')}/logs:follow`, { headers: withAuthorization({}, token) });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { details: { reason: string }[] }).details[0]?.reason).toBe('TASK_NOT_FOUND');
  });

  describe('a client that reads too slowly', () => {
    let slow: ApiService;
    let slowGrpcPort: number;
    let slowUrl: string;

    beforeAll(async () => {
      // A short stall timeout, so the test need not wait the default 30 s.
      slow = createApiService({ pool, runs: scheduler.runs, logs: collector, logger: silent, grpcPort: 0, httpPort: 0, stallTimeoutMs: 300 });
      const ports = await slow.start();
      slowGrpcPort = ports.grpcPort;
      slowUrl = `http://127.0.0.1:${ports.httpPort}`;
    });

    afterAll(async () => {
      await slow.stop();
    });

    /** A started task with `lines` stored lines of `padding` extra text each, and no final count: a tail of it never ends by itself. */
    async function storedTask(lines: number, padding: string): Promise<{ parent: string; attemptId: string }> {
      const task = await startedTask();
      for (let from = 1; from <= lines; from += 500) await bus.publish(subjects.logs(task.attemptId), batch(task.attemptId, from, from + 499, undefined, padding));
      while ((await collector.readLogs(task.attemptId, lines - 1, 1)).lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      return task;
    }

    /** Resolves once the collector has no live tail left: the api ended the one the test opened. */
    async function tailDropped(): Promise<void> {
      while (collector.feed.attemptsWatched > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }

    it('drops a gRPC TailLogs client that stops reading with RESOURCE_EXHAUSTED, saying where to resume', async () => {
      // A plain HTTP/2 client speaking gRPC, so that pausing it really stops HTTP/2 flow control (a
      // paused grpc-js client stream does not reliably): the server can send one 64 KiB window, then stalls.
      const { parent } = await storedTask(30_000, ' '.repeat(100));
      const session = connect(`http://127.0.0.1:${slowGrpcPort}`);
      try {
        const request = TailLogsRequest.encode({ parent, attempt: 0, afterSequence: 0 }).finish();
        const frame = Buffer.alloc(5 + request.length);
        frame.writeUInt32BE(request.length, 1);
        Buffer.from(request).copy(frame, 5);
        const stream = session.request({
          ':method': 'POST', ':path': '/skein.v1.LogService/TailLogs', 'content-type': 'application/grpc', te: 'trailers',
          authorization: `Bearer ${token}`,
        });
        stream.end(frame);
        stream.pause();
        while (collector.feed.attemptsWatched === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        await tailDropped();

        const chunks: Buffer[] = [];
        const trailers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('trailers', resolve);
          stream.on('error', reject);
          stream.resume();
        });
        const received = decodeGrpcFrames(Buffer.concat(chunks)).flatMap((m) => TailLogsResponse.decode(m).entries.map((e) => e.sequence));
        expect(trailers['grpc-status']).toBe(String(status.RESOURCE_EXHAUSTED));
        expect(decodeURIComponent(String(trailers['grpc-message']))).toContain('too slowly');
        const metadata = new Metadata();
        metadata.set('grpc-status-details-bin', Buffer.from(String(trailers['grpc-status-details-bin']), 'base64'));
        const info = decodeErrorDetails(metadata).errorInfo;
        expect(info?.reason).toBe('LOG_TAIL_TOO_SLOW');
        // What was sent arrives in order before the status, which names the last line sent.
        expect(received.length).toBeLessThan(30_000);
        expect(received).toEqual(range(1, received.length));
        expect(info?.metadata['afterSequence']).toBe(String(received.length));
      } finally {
        session.close();
      }
    }, 60_000);

    it('ends an SSE follow whose client stops reading with an error event (RESOURCE_EXHAUSTED)', async () => {
      // 3 events of 1,000 lines of 8 KiB: each larger than what the loopback socket buffers hold.
      const { parent } = await storedTask(3_000, 'x'.repeat(8 * 1024));
      const text = await new Promise<string>((resolve, reject) => {
        get(`${slowUrl}/v1/${parent}/logs:follow`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
          expect(res.statusCode).toBe(200);
          res.pause();
          void (async () => {
            while (collector.feed.attemptsWatched === 0) await new Promise((r) => setTimeout(r, 20));
            await tailDropped();
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => { body += chunk; });
            res.on('end', () => resolve(body));
            res.resume();
          })();
        }).on('error', reject);
      });
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(ids.length).toBeLessThan(3_000);
      expect(ids).toEqual(range(1, ids.length));
      const error = /event: error\ndata: (.*)\n\n$/.exec(text);
      expect(error).not.toBeNull();
      const body = JSON.parse(error![1]!) as { code: number; details: { reason: string; metadata: Record<string, string> }[] };
      expect(body.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(body.details[0]).toMatchObject({ reason: 'LOG_TAIL_TOO_SLOW', metadata: { afterSequence: String(ids.length) } });
    }, 60_000);
  });
});
