import pino from 'pino';
import { createPool } from '@skein/store';
import { freePort } from '@skein/testing';
import { createApiService } from './api-service';
import { startTestApi, withAuthorization, workflowYaml, type TestApi } from './test-harness';

interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
}

describe('api over REST', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
    const res = await api.fetch(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const errorInfo = (body: Record<string, unknown>) => (body['details'] as Record<string, unknown>[])[0];

  it('answers /healthz', async () => {
    expect(await request('GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('answers 503 on /healthz when the database is unreachable', async () => {
    const pool = createPool(`postgres://skein@127.0.0.1:${await freePort()}/nothing`);
    const scheduler = { createRun: () => Promise.reject(new Error('unused')), cancelRun: () => Promise.reject(new Error('unused')), backfill: () => Promise.reject(new Error('unused')), retryRun: () => Promise.reject(new Error('unused')) };
    const service = createApiService({
      pool, runs: scheduler, logs: api.scheduler.logs, logger: pino({ level: 'silent' }), grpcPort: 0, httpPort: 0, reflection: false,
    });
    const { httpPort } = await service.start();
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(503);
      const list = await fetch(`http://127.0.0.1:${httpPort}/v1/workflows`, { headers: withAuthorization({}, api.adminToken), signal: AbortSignal.timeout(10_000) });
      expect(list.status).toBe(503);
      expect(errorInfo((await list.json()) as Record<string, unknown>)).toMatchObject({ reason: 'DATABASE_UNAVAILABLE' });
    } finally {
      await service.stop();
      await pool.end();
    }
  });

  it('applies, validates, gets and lists workflows as proto3 JSON', async () => {
    const applied = await request('POST', '/v1/workflows:apply', { source: workflowYaml('rest-etl'), fileName: 'rest-etl.yaml' });
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({
      created: true,
      workflow: { name: 'workflows/rest-etl', workflowId: 'rest-etl', currentVersion: 1, labels: { team: 'data' } },
      version: { name: 'workflows/rest-etl/versions/1', version: 1 },
    });
    expect(typeof (applied.body['workflow'] as Record<string, unknown>)['createTime']).toBe('string');
    const again = await request('POST', '/v1/workflows:apply', { source: workflowYaml('rest-etl'), file_name: 'rest-etl.yaml' });
    expect(again.body['created']).toBeUndefined(); // proto3 JSON omits a false bool

    const validated = await request('POST', '/v1/workflows:validate', { source: workflowYaml('rest-draft') });
    expect(validated).toEqual({ status: 200, body: { workflowId: 'rest-draft', taskCount: 3 } });

    const got = await request('GET', '/v1/workflows/rest-etl');
    expect(got.body['workflow']).toEqual(applied.body['workflow']);
    const missing = await request('GET', '/v1/workflows/rest-draft');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 5, message: 'workflow workflows/rest-draft not found' });
    expect(errorInfo(missing.body)).toEqual({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'WORKFLOW_NOT_FOUND', domain: 'skein.dev', metadata: { resource: 'workflows/rest-draft' },
    });

    await request('POST', '/v1/workflows:apply', { source: workflowYaml('rest-other') });
    const page1 = await request('GET', '/v1/workflows?pageSize=1');
    expect((page1.body['workflows'] as unknown[]).length).toBe(1);
    const page2 = await request('GET', `/v1/workflows?page_size=5&pageToken=${String(page1.body['nextPageToken'])}`);
    expect((page2.body['workflows'] as { workflowId: string }[]).map((w) => w.workflowId)).toEqual(['rest-other']);
    expect(page2.body['nextPageToken']).toBeUndefined();
  });

  it('reports validation errors as BadRequest field violations', async () => {
    const res = await request('POST', '/v1/workflows:apply', {
      source: workflowYaml('rest-bad').replace('dependsOn: [extract]', 'dependsOn: [nope]'), fileName: 'bad.yaml',
    });
    expect(res.status).toBe(400);
    expect(res.body['code']).toBe(3);
    const [info, badRequest] = res.body['details'] as Record<string, unknown>[];
    expect(info).toMatchObject({ reason: 'WORKFLOW_INVALID' });
    expect(badRequest).toMatchObject({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: 'spec.tasks[1].dependsOn[0]', description: expect.stringMatching(/^bad\.yaml:11:\d+: /) }],
    });
    const wrongType = await request('POST', '/v1/workflows:apply', { source: 42 });
    expect(wrongType.status).toBe(400);
  });

  it('answers 400 for malformed JSON and 413 for a body over 2 MiB', async () => {
    const malformed = await request('POST', '/v1/workflows:apply', '{"source": ');
    expect(malformed.status).toBe(400);
    expect(errorInfo(malformed.body)).toMatchObject({ reason: 'MALFORMED_JSON' });
    const notObject = await request('POST', '/v1/workflows:apply', '[1]');
    expect(notObject.status).toBe(400);
    const large = await request('POST', '/v1/workflows:apply', { source: 'x'.repeat(3 * 1024 * 1024) });
    expect(large.status).toBe(413);
    expect(errorInfo(large.body)).toMatchObject({ reason: 'REQUEST_TOO_LARGE' });
    const unknownRoute = await request('GET', '/v1/nothing');
    expect(unknownRoute.status).toBe(404);
  });

  it('triggers runs and reads runs, task runs and logs', async () => {
    const triggered = await request('POST', '/v1/workflows/rest-etl/runs', { params: {} }, { 'x-skein-trigger': 'manual' });
    expect(triggered.status).toBe(200);
    const run = triggered.body['run'] as Record<string, unknown>;
    expect(run).toMatchObject({ workflow: 'rest-etl', state: 'RUN_STATE_QUEUED', trigger: 'manual', workflowVersion: 1 });
    const runId = String(run['runId']);
    await api.scheduler.startTask(runId, 'extract');
    await api.scheduler.writeLogs(runId, 'extract', ['hello', 'world'], { final: true });
    await api.scheduler.finishTask(runId, 'extract', { state: 'succeeded' });

    expect((await request('GET', `/v1/workflows/rest-etl/runs/${runId}`)).body['run']).toMatchObject({ runId, state: 'RUN_STATE_RUNNING' });
    expect((await request('GET', `/v1/workflows/-/runs/${runId}`)).status).toBe(200);
    expect((await request('GET', `/v1/workflows/rest-other/runs/${runId}`)).status).toBe(404);
    const listed = await request('GET', '/v1/workflows/-/runs?pageSize=10');
    expect((listed.body['runs'] as { runId: string }[]).map((r) => r.runId)).toContain(runId);
    expect((await request('GET', '/v1/workflows/rest-etl/runs')).status).toBe(200);

    const tasks = await request('GET', `/v1/workflows/rest-etl/runs/${runId}/tasks`);
    const taskRuns = tasks.body['taskRuns'] as Record<string, unknown>[];
    expect(taskRuns.map((t) => [t['task'], t['state']])).toEqual([
      ['extract', 'TASK_RUN_STATE_SUCCEEDED'], ['transform', 'TASK_RUN_STATE_PENDING'], ['load', 'TASK_RUN_STATE_PENDING'],
    ]);
    expect(taskRuns[0]?.['attempts']).toEqual([expect.objectContaining({ number: 1, state: 'ATTEMPT_STATE_SUCCEEDED', exitCode: 0, outputs: { ok: true } })]);

    const logs = await request('GET', `/v1/workflows/rest-etl/runs/${runId}/tasks/extract/logs?pageSize=1`);
    expect(logs.body).toMatchObject({ attempt: 1, complete: true, entries: [{ sequence: 1, line: 'hello', stream: 'LOG_STREAM_STDOUT' }] });
    const next = await request('GET', `/v1/workflows/rest-etl/runs/${runId}/tasks/extract/logs?pageToken=${String(logs.body['nextPageToken'])}`);
    expect((next.body['entries'] as { line: string }[]).map((e) => e.line)).toEqual(['world']);
    const after = await request('GET', `/v1/workflows/rest-etl/runs/${runId}/tasks/extract/logs?afterSequence=1&attempt=1`);
    expect((after.body['entries'] as { line: string }[]).map((e) => e.line)).toEqual(['world']);
  });

  it('rejects bad params, bad query values and bad tokens with 400', async () => {
    const badParams = await request('POST', '/v1/workflows/rest-etl/runs', { params: { nope: 1 } });
    expect(badParams.status).toBe(400);
    expect(errorInfo(badParams.body)).toMatchObject({ reason: 'PARAMS_INVALID' });
    expect((await request('POST', '/v1/workflows/rest-etl/runs', { params: [1] })).status).toBe(400);
    expect((await request('POST', '/v1/workflows/missing/runs', {})).status).toBe(404);
    expect((await request('GET', '/v1/workflows?pageSize=abc')).status).toBe(400);
    // AIP-158: a page size above the maximum is read as the maximum; a negative one is refused.
    expect((await request('GET', '/v1/workflows?pageSize=5000')).status).toBe(200);
    expect((await request('GET', '/v1/workflows?pageSize=-1')).status).toBe(400);
    const badToken = await request('GET', '/v1/workflows?pageToken=zzz');
    expect(badToken.status).toBe(400);
    expect(badToken.body['message']).toContain('invalid page_token');
    expect((await request('GET', '/v1/workflows/a%2Fb')).status).toBe(400);
  });
});
