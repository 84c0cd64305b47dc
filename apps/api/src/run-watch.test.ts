import { Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { RunState, TaskRunState, type WatchRunResponse } from '@skein/proto';
import { decodeErrorDetails } from './status';
import { call, startTestApi, workflowYaml, type TestApi } from './test-harness';

/** Reads a stream's messages one at a time, so a test can act between them. */
function reader(stream: ClientReadableStream<WatchRunResponse>) {
  const queue: WatchRunResponse[] = [];
  const waiting: ((m: WatchRunResponse | undefined) => void)[] = [];
  let ended = false;
  let failure: ServiceError | undefined;
  const ended$ = new Promise<void>((resolve) => {
    stream.on('data', (m: WatchRunResponse) => {
      const next = waiting.shift();
      if (next) next(m);
      else queue.push(m);
    });
    stream.on('error', (err: ServiceError) => { failure = err; });
    stream.on('close', () => {
      ended = true;
      for (const w of waiting.splice(0)) w(undefined);
      resolve();
    });
  });
  return {
    next(): Promise<WatchRunResponse | undefined> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => waiting.push(resolve));
    },
    async end(): Promise<{ rest: WatchRunResponse[]; error?: ServiceError }> {
      await ended$;
      return { rest: queue.splice(0), error: failure };
    },
  };
}

describe('WatchRun', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
    await call(api.workflows.applyWorkflow.bind(api.workflows), { source: workflowYaml('watched'), fileName: 'watched.yaml' });
  });

  afterAll(async () => {
    await api.close();
  });

  const trigger = async () => {
    const res = await call(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/watched', params: {}, requestId: '' });
    return res.run!.runId;
  };
  const watch = (name: string) => api.runs.watchRun({ name }, new Metadata(), { deadline: Date.now() + 60_000 });

  it('sends a snapshot, then each change, and ends OK once the run has ended', async () => {
    const runId = await trigger();
    const stream = reader(watch(`workflows/-/runs/${runId}`));
    const first = await stream.next();
    expect(first?.run?.runId).toBe(runId);
    expect(first?.run?.state).toBe(RunState.RUN_STATE_QUEUED);
    expect(first?.taskRuns.map((t) => t.task)).toEqual(['extract', 'transform', 'load']);
    expect(first?.taskRuns[0]?.attempts).toHaveLength(1);

    await api.scheduler.startTask(runId, 'extract');
    let change = await stream.next();
    // Only what changed is sent: the run (always) and the started task.
    while (change && !change.taskRuns.some((t) => t.task === 'extract' && t.state === TaskRunState.TASK_RUN_STATE_RUNNING)) change = await stream.next();
    expect(change?.taskRuns.map((t) => t.task)).toEqual(['extract']);

    await api.scheduler.finishTask(runId, 'extract', { state: 'failed', exitCode: 2 });
    await api.scheduler.finishRun(runId, 'failed', 'extract failed');
    const { rest, error } = await stream.end();
    expect(error).toBeUndefined();
    const last = rest[rest.length - 1] ?? change;
    expect(last?.run?.state).toBe(RunState.RUN_STATE_FAILED);
    const extract = [change, ...rest].flatMap((m) => m?.taskRuns ?? []).filter((t) => t.task === 'extract').pop();
    expect(extract?.state).toBe(TaskRunState.TASK_RUN_STATE_FAILED);
    expect(extract?.attempts[0]?.exitCode).toBe(2);
  });

  it('ends at once after the snapshot for a run that already ended', async () => {
    const runId = await trigger();
    await api.scheduler.finishRun(runId, 'cancelled', 'no');
    const stream = reader(watch(`workflows/watched/runs/${runId}`));
    expect((await stream.next())?.run?.state).toBe(RunState.RUN_STATE_CANCELLED);
    const { rest, error } = await stream.end();
    expect(rest).toEqual([]);
    expect(error).toBeUndefined();
  });

  it('fails with NOT_FOUND and INVALID_ARGUMENT before any message', async () => {
    const missing = await reader(watch('workflows/-/runs/nope')).end();
    expect(missing.error?.code).toBe(status.NOT_FOUND);
    expect(decodeErrorDetails(missing.error!.metadata).errorInfo?.reason).toBe('RUN_NOT_FOUND');
    const malformed = await reader(watch('runs/x')).end();
    expect(malformed.error?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('honours the deadline of a stream that waits', async () => {
    const runId = await trigger();
    const stream = api.runs.watchRun({ name: `workflows/-/runs/${runId}` }, new Metadata(), { deadline: Date.now() + 1500 });
    const { error } = await reader(stream).end();
    expect(error?.code).toBe(status.DEADLINE_EXCEEDED);
    await api.scheduler.finishRun(runId, 'cancelled');
  });

  it('streams Server-Sent Events over REST until the end event', async () => {
    const runId = await trigger();
    const response = await api.fetch(`/v1/workflows/watched/runs/${runId}:watch`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const body = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await body.read();
        if (done) throw new Error(`stream ended before ${needle}: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil('event: run');
    await api.scheduler.finishRun(runId, 'succeeded');
    await readUntil('event: end');
    expect(text).toContain('"RUN_STATE_QUEUED"');
    expect(text).toContain('"RUN_STATE_SUCCEEDED"');
    await body.cancel();

    const missing = await api.fetch(`/v1/workflows/watched/runs/nope:watch`);
    expect(missing.status).toBe(404);
  });

  // Last: it stops the api.
  it('ends open streams with UNAVAILABLE (API_STOPPING) when the api stops, without holding the shutdown', async () => {
    const runId = await trigger();
    const stream = reader(watch(`workflows/-/runs/${runId}`));
    expect((await stream.next())?.run?.runId).toBe(runId);
    await api.service.stop();
    const { error } = await stream.end();
    expect(error?.code).toBe(status.UNAVAILABLE);
    // The hub ended it (a stream left open would be cut by forceShutdown, without this reason).
    expect(decodeErrorDetails(error!.metadata).errorInfo?.reason).toBe('API_STOPPING');
  });
});
