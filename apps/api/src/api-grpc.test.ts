import { credentials, loadPackageDefinition, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import path from 'node:path';
import { LogStream, RunState, TaskRunState, AttemptState } from '@skein/proto';
import { NotFoundError } from '@skein/store';
import { decodeErrorDetails } from './status';
import { call, callError, startTestApi, workflowYaml, type TestApi } from './test-harness';

function details(err: ServiceError) {
  return decodeErrorDetails(err.metadata);
}

describe('api over gRPC', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const apply = (source: string, fileName = 'etl.yaml') => call(api.workflows.applyWorkflow.bind(api.workflows), { source, fileName });
  const trigger = (parent: string, params: Record<string, unknown> = {}, metadata?: Metadata) =>
    call(api.runs.triggerRun.bind(api.runs), { requestId: '', parent, params }, metadata);

  describe('health and reflection', () => {
    it('reports SERVING for the server and every service', async () => {
      const pkg = loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { enums: String })) as unknown as {
        grpc: { health: { v1: { Health: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => {
          check(req: { service: string }, md: Metadata, opts: object, cb: (err: ServiceError | null, res: { status: string }) => void): void;
          close(): void;
        } } } };
      };
      const health = new pkg.grpc.health.v1.Health(api.grpcAddress, credentials.createInsecure());
      try {
        for (const service of ['', 'skein.v1.WorkflowService', 'skein.v1.RunService', 'skein.v1.LogService']) {
          const res = await call(health.check.bind(health), { service });
          expect(res.status).toBe('SERVING');
        }
        const unknown = await callError(health.check.bind(health), { service: 'nope.Service' });
        expect(unknown.code).toBe(status.NOT_FOUND);
      } finally {
        health.close();
      }
    });

    it('lists the services by server reflection', async () => {
      const reflectionProto = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');
      const pkg = loadPackageDefinition(protoLoader.loadSync(reflectionProto, { keepCase: true })) as unknown as {
        grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => {
          ServerReflectionInfo(opts: object): NodeJS.EventEmitter & { write(msg: object): void; end(): void };
          close(): void;
        } } } };
      };
      const client = new pkg.grpc.reflection.v1.ServerReflection(api.grpcAddress, credentials.createInsecure());
      try {
        const stream = client.ServerReflectionInfo({ deadline: Date.now() + 10_000 });
        const response = new Promise<{ list_services_response: { service: { name: string }[] } }>((resolve, reject) => {
          stream.on('data', resolve);
          stream.on('error', reject);
        });
        stream.write({ list_services: '*' });
        const names = (await response).list_services_response.service.map((s) => s.name);
        stream.end();
        expect(names).toEqual(expect.arrayContaining([
          'skein.v1.WorkflowService', 'skein.v1.RunService', 'skein.v1.LogService', 'grpc.health.v1.Health',
        ]));
      } finally {
        client.close();
      }
    });
  });

  describe('WorkflowService', () => {
    it('applies a workflow, versions only changes', async () => {
      const first = await apply(workflowYaml('etl'));
      expect(first.created).toBe(true);
      expect(first.workflow).toMatchObject({ name: 'workflows/etl', workflowId: 'etl', currentVersion: 1, labels: { team: 'data' }, schedule: '' });
      expect(first.version).toMatchObject({ name: 'workflows/etl/versions/1', version: 1 });
      expect(first.version?.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(first.workflow?.spec?.['metadata']).toMatchObject({ name: 'etl' });

      const same = await apply(workflowYaml('etl'));
      expect(same.created).toBe(false);
      expect(same.version?.version).toBe(1);

      const changed = await apply(workflowYaml('etl', { command: 'printf' }));
      expect(changed.created).toBe(true);
      expect(changed.workflow?.currentVersion).toBe(2);
    });

    it('rejects an invalid file with one field violation per issue, located file:line:column', async () => {
      const source = workflowYaml('broken').replace('dependsOn: [extract]', 'dependsOn: [extrct]');
      const err = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source, fileName: 'broken.yaml' });
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      const { errorInfo, fieldViolations } = details(err);
      expect(errorInfo).toMatchObject({ reason: 'WORKFLOW_INVALID', domain: 'skein.dev' });
      expect(fieldViolations.length).toBeGreaterThanOrEqual(1);
      expect(fieldViolations[0]?.field).toBe('spec.tasks[1].dependsOn[0]');
      expect(fieldViolations[0]?.description).toMatch(/^broken\.yaml:11:\d+: spec\.tasks\[1\]\.dependsOn\[0\]: .*extrct/);
      expect(err.details).toContain('broken.yaml:11:');
      await expect(call(api.workflows.getWorkflow.bind(api.workflows), { name: 'workflows/broken' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    });

    it('rejects a bad logRetentionDays at apply time, naming the field', async () => {
      const source = workflowYaml('kept').replace('spec:\n', 'spec:\n  logRetentionDays: -3\n');
      const err = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source, fileName: 'kept.yaml' });
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(details(err).fieldViolations).toEqual([
        expect.objectContaining({ field: 'spec.logRetentionDays', description: 'kept.yaml:7:21: spec.logRetentionDays: must be between 0 and 36500, got -3' }),
      ]);
    });

    it('takes exactly one document per request', async () => {
      const err = await callError(api.workflows.applyWorkflow.bind(api.workflows), {
        source: `${workflowYaml('one')}---\n${workflowYaml('two')}`, fileName: 'two.yaml',
      });
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(details(err).errorInfo?.reason).toBe('WORKFLOW_INVALID');
      expect(err.details).toMatch(/exactly one/);
      const empty = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source: '  \n', fileName: 'empty.yaml' });
      expect(empty.code).toBe(status.INVALID_ARGUMENT);
    });

    it('limits the size of a workflow file and of a message', async () => {
      const big = `${workflowYaml('big')}#${'x'.repeat(1024 * 1024)}\n`;
      const err = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source: big, fileName: 'big.yaml' });
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(details(err).fieldViolations[0]?.field).toBe('source');
      const huge = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source: 'x'.repeat(5 * 1024 * 1024), fileName: 'huge.yaml' });
      expect(huge.code).toBe(status.RESOURCE_EXHAUSTED);
    });

    it('validates without storing', async () => {
      const res = await call(api.workflows.validateWorkflow.bind(api.workflows), { source: workflowYaml('draft'), fileName: 'draft.yaml' });
      expect(res).toEqual({ workflowId: 'draft', taskCount: 3 });
      const err = await callError(api.workflows.getWorkflow.bind(api.workflows), { name: 'workflows/draft' });
      expect(err.code).toBe(status.NOT_FOUND);
      expect(details(err).errorInfo).toMatchObject({ reason: 'WORKFLOW_NOT_FOUND', metadata: { resource: 'workflows/draft' } });
      const invalid = await callError(api.workflows.validateWorkflow.bind(api.workflows), { source: 'kind: Nope\n', fileName: 'nope.yaml' });
      expect(details(invalid).errorInfo?.reason).toBe('WORKFLOW_INVALID');
    });

    it('rejects malformed names naming the field', async () => {
      for (const name of ['', 'etl', 'workflows/', 'workflows/etl/runs', 'flows/etl', 'workflows/-', 'workflows/a b']) {
        const err = await callError(api.workflows.getWorkflow.bind(api.workflows), { name });
        expect(err.code).toBe(status.INVALID_ARGUMENT);
        expect(details(err).errorInfo?.reason).toBe('INVALID_ARGUMENT');
        expect(details(err).fieldViolations[0]?.field).toBe('name');
      }
    });

    it('lists workflows page by page to exhaustion', async () => {
      for (const name of ['page-a', 'page-b', 'page-c', 'page-d']) await apply(workflowYaml(name));
      const ids: string[] = [];
      let pageToken = '';
      let pages = 0;
      do {
        const res = await call(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 2, pageToken, filter: '' });
        expect(res.workflows.length).toBeLessThanOrEqual(2);
        ids.push(...res.workflows.map((w) => w.workflowId));
        pageToken = res.nextPageToken;
        pages++;
      } while (pageToken !== '');
      expect(ids).toEqual([...ids].sort());
      expect(ids).toEqual(expect.arrayContaining(['etl', 'page-a', 'page-b', 'page-c', 'page-d']));
      expect(new Set(ids).size).toBe(ids.length);
      expect(pages).toBe(Math.ceil(ids.length / 2));
      const all = await call(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 0, pageToken: '', filter: '' });
      expect(all.workflows.map((w) => w.workflowId)).toEqual(ids);
      expect(all.nextPageToken).toBe('');
    });

    it('rejects bad page tokens and sizes', async () => {
      for (const pageToken of ['not base64!', 'e30', Buffer.from('{"k":"runs"}').toString('base64url')]) {
        const err = await callError(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 0, pageToken, filter: '' });
        expect(err.code).toBe(status.INVALID_ARGUMENT);
        expect(err.details).toContain('invalid page_token');
        expect(details(err).fieldViolations[0]?.field).toBe('page_token');
      }
      // Above the maximum is read as the maximum (AIP-158), not refused.
      const tooBig = await call(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 1001, pageToken: '', filter: '' });
      expect(tooBig.nextPageToken).toBe('');
      const negative = await callError(api.workflows.listWorkflows.bind(api.workflows), { pageSize: -1, pageToken: '', filter: '' });
      expect(negative.code).toBe(status.INVALID_ARGUMENT);
    });
  });

  describe('RunService', () => {
    let runId: string;

    beforeAll(async () => {
      await apply(workflowYaml('params', { params: '    season: {type: string, default: "2026"}\n    limit: {type: integer}' }));
    });

    it('triggers a run with params checked and defaulted', async () => {
      const metadata = new Metadata();
      metadata.set('x-skein-trigger', 'manual');
      const res = await trigger('workflows/params', { limit: 5 }, metadata);
      expect(res.run).toMatchObject({
        workflow: 'params', workflowVersion: 1, state: RunState.RUN_STATE_QUEUED, trigger: 'manual', params: { season: '2026', limit: 5 },
      });
      runId = res.run?.runId ?? '';
      expect(res.run?.name).toBe(`workflows/params/runs/${runId}`);
      const viaApi = await trigger('workflows/params', { limit: 1, season: '2025' });
      expect(viaApi.run?.trigger).toBe('api');
    });

    it('reports every bad param as a field violation', async () => {
      const err = await callError(api.runs.triggerRun.bind(api.runs), { requestId: '', parent: 'workflows/params', params: { season: 7, bogus: 'x' } });
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(details(err).errorInfo?.reason).toBe('PARAMS_INVALID');
      const fields = details(err).fieldViolations.map((v) => v.field).sort();
      expect(fields).toEqual(expect.arrayContaining(['params.bogus', 'params.limit']));
      const missing = await callError(api.runs.triggerRun.bind(api.runs), { requestId: '', parent: 'workflows/nope', params: {} });
      expect(missing.code).toBe(status.NOT_FOUND);
      expect(details(missing).errorInfo?.reason).toBe('WORKFLOW_NOT_FOUND');
    });

    it('maps scheduler failures: unknown → INTERNAL with a generic message, NOT_FOUND, UNAVAILABLE', async () => {
      api.failNextCreateRun(new Error('SELECT secret FROM passwords'));
      const err = await callError(api.runs.triggerRun.bind(api.runs), { requestId: '', parent: 'workflows/params', params: { limit: 1 } });
      expect(err.code).toBe(status.INTERNAL);
      expect(err.details).toBe('internal error');
      expect(details(err).errorInfo?.reason).toBe('INTERNAL');

      api.failNextCreateRun(new NotFoundError('workflow', 'params'));
      const gone = await callError(api.runs.triggerRun.bind(api.runs), { requestId: '', parent: 'workflows/params', params: { limit: 1 } });
      expect(gone.code).toBe(status.NOT_FOUND);
      expect(details(gone).errorInfo?.reason).toBe('WORKFLOW_NOT_FOUND');

      // What the scheduler's internal gRPC client rejects with when the scheduler is down.
      api.failNextCreateRun(Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
        code: status.UNAVAILABLE, details: 'No connection established', metadata: new Metadata(),
      }));
      const down = await callError(api.runs.triggerRun.bind(api.runs), { requestId: '', parent: 'workflows/params', params: { limit: 1 } });
      expect(down.code).toBe(status.UNAVAILABLE);
      expect(details(down).errorInfo?.reason).toBe('BACKEND_UNAVAILABLE');
      expect(down.details).not.toContain('No connection');
    });

    it('gets a run by full name or by id alone', async () => {
      const full = await call(api.runs.getRun.bind(api.runs), { name: `workflows/params/runs/${runId}` });
      const byId = await call(api.runs.getRun.bind(api.runs), { name: `workflows/-/runs/${runId}` });
      expect(byId).toEqual(full);
      const wrongWorkflow = await callError(api.runs.getRun.bind(api.runs), { name: `workflows/etl/runs/${runId}` });
      expect(wrongWorkflow.code).toBe(status.NOT_FOUND);
      expect(details(wrongWorkflow).errorInfo?.reason).toBe('RUN_NOT_FOUND');
      const malformed = await callError(api.runs.getRun.bind(api.runs), { name: `workflows/params/${runId}` });
      expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    });

    it('lists runs newest first, page by page, per workflow and across workflows', async () => {
      const created: string[] = [runId];
      for (let i = 0; i < 4; i++) created.push((await trigger('workflows/etl')).run?.runId ?? '');
      const pageAll = async (parent: string) => {
        const ids: string[] = [];
        let pageToken = '';
        do {
          const res = await call(api.runs.listRuns.bind(api.runs), { state: 0, createTimeAfter: undefined, createTimeBefore: undefined, parent, pageSize: 2, pageToken });
          ids.push(...res.runs.map((r) => r.runId));
          pageToken = res.nextPageToken;
        } while (pageToken !== '');
        return ids;
      };
      const etl = await pageAll('workflows/etl');
      expect(etl).toEqual(created.slice(1).reverse());
      const all = await pageAll('workflows/-');
      expect(all).toEqual(expect.arrayContaining(created));
      expect(new Set(all).size).toBe(all.length);

      const first = await call(api.runs.listRuns.bind(api.runs), { state: 0, createTimeAfter: undefined, createTimeBefore: undefined, parent: 'workflows/etl', pageSize: 1, pageToken: '' });
      const mixed = await callError(api.runs.listRuns.bind(api.runs), { state: 0, createTimeAfter: undefined, createTimeBefore: undefined, parent: 'workflows/-', pageSize: 1, pageToken: first.nextPageToken });
      expect(mixed.code).toBe(status.INVALID_ARGUMENT);
      const missing = await callError(api.runs.listRuns.bind(api.runs), { state: 0, createTimeAfter: undefined, createTimeBefore: undefined, parent: 'workflows/nope', pageSize: 0, pageToken: '' });
      expect(details(missing).errorInfo?.reason).toBe('WORKFLOW_NOT_FOUND');
    });

    it('lists task runs with their attempts, states and upstreams', async () => {
      const id = (await trigger('workflows/etl')).run?.runId ?? '';
      await api.scheduler.startTask(id, 'extract');
      await api.scheduler.finishTask(id, 'extract', { state: 'failed', exitCode: 3, retry: true });
      const parent = `workflows/-/runs/${id}`;
      const res = await call(api.runs.listTaskRuns.bind(api.runs), { parent, pageSize: 0, pageToken: '' });
      expect(res.taskRuns.map((t) => [t.name, t.state, t.dependsOn])).toEqual([
        [`workflows/etl/runs/${id}/tasks/extract`, TaskRunState.TASK_RUN_STATE_QUEUED, []],
        [`workflows/etl/runs/${id}/tasks/transform`, TaskRunState.TASK_RUN_STATE_PENDING, ['extract']],
        [`workflows/etl/runs/${id}/tasks/load`, TaskRunState.TASK_RUN_STATE_PENDING, ['transform']],
      ]);
      const attempts = res.taskRuns[0]?.attempts ?? [];
      expect(attempts.map((a) => [a.number, a.state, a.exitCode])).toEqual([
        [1, AttemptState.ATTEMPT_STATE_FAILED, 3], [2, AttemptState.ATTEMPT_STATE_QUEUED, undefined],
      ]);
      expect(attempts[0]).toMatchObject({ reason: 'EXIT_CODE', executor: 'test-executor' });

      const names: string[] = [];
      let pageToken = '';
      do {
        const page = await call(api.runs.listTaskRuns.bind(api.runs), { parent: `workflows/etl/runs/${id}`, pageSize: 1, pageToken });
        names.push(...page.taskRuns.map((t) => t.task));
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      expect(names).toEqual(['extract', 'transform', 'load']);
      const missing = await callError(api.runs.listTaskRuns.bind(api.runs), { parent: 'workflows/etl/runs/nope', pageSize: 0, pageToken: '' });
      expect(details(missing).errorInfo?.reason).toBe('RUN_NOT_FOUND');
    });
  });

  describe('LogService', () => {
    let runId: string;

    beforeAll(async () => {
      runId = (await trigger('workflows/etl')).run?.runId ?? '';
      await api.scheduler.startTask(runId, 'extract');
      await api.scheduler.writeLogs(runId, 'extract', ['first try'], { final: true });
      await api.scheduler.finishTask(runId, 'extract', { state: 'failed', retry: true });
      await api.scheduler.startTask(runId, 'extract');
      await api.scheduler.writeLogs(runId, 'extract', Array.from({ length: 25 }, (_, i) => `line ${i + 1}`));
      await api.scheduler.writeLogs(runId, 'extract', ['oops'], { stream: 2 });
    });

    const getLogs = (parent: string, extra: { attempt?: number; afterSequence?: number; pageSize?: number; pageToken?: string } = {}) =>
      call(api.logs.getLogs.bind(api.logs), { parent, attempt: 0, afterSequence: 0, pageSize: 0, pageToken: '', ...extra });

    it('reads the latest attempt page by page to exhaustion', async () => {
      const parent = `workflows/etl/runs/${runId}/tasks/extract`;
      const lines: string[] = [];
      let pageToken = '';
      let pages = 0;
      do {
        const res = await getLogs(parent, { pageSize: 10, pageToken });
        expect(res.attempt).toBe(2);
        expect(res.complete).toBe(false);
        lines.push(...res.entries.map((e) => e.line));
        pageToken = res.nextPageToken;
        pages++;
      } while (pageToken !== '');
      expect(pages).toBe(3);
      expect(lines).toEqual([...Array.from({ length: 25 }, (_, i) => `line ${i + 1}`), 'oops']);
      const tail = await getLogs(parent, { afterSequence: 25 });
      expect(tail.entries).toEqual([{ attempt: 2, sequence: 26, stream: LogStream.LOG_STREAM_STDERR, time: expect.any(Date), line: 'oops' }]);
    });

    it('reads an earlier attempt, and says when its log is complete', async () => {
      const res = await getLogs(`workflows/-/runs/${runId}/tasks/extract`, { attempt: 1 });
      expect(res).toMatchObject({ attempt: 1, complete: true, nextPageToken: '' });
      expect(res.entries.map((e) => [e.sequence, e.line, e.stream])).toEqual([[1, 'first try', LogStream.LOG_STREAM_STDOUT]]);
    });

    it('returns no lines for a task not tried yet, and NOT_FOUND for what does not exist', async () => {
      const pending = await getLogs(`workflows/etl/runs/${runId}/tasks/load`);
      expect(pending).toEqual({ entries: [], nextPageToken: '', attempt: 0, complete: false });
      const noTask = await callError(api.logs.getLogs.bind(api.logs), { parent: `workflows/etl/runs/${runId}/tasks/nope`, attempt: 0, afterSequence: 0, pageSize: 0, pageToken: '' });
      expect(details(noTask).errorInfo?.reason).toBe('TASK_NOT_FOUND');
      const noAttempt = await callError(api.logs.getLogs.bind(api.logs), { parent: `workflows/etl/runs/${runId}/tasks/extract`, attempt: 9, afterSequence: 0, pageSize: 0, pageToken: '' });
      expect(details(noAttempt).errorInfo?.reason).toBe('ATTEMPT_NOT_FOUND');
      const tooBig = await call(api.logs.getLogs.bind(api.logs), { parent: `workflows/etl/runs/${runId}/tasks/extract`, attempt: 0, afterSequence: 0, pageSize: 10001, pageToken: '' });
      expect(tooBig.nextPageToken).toBe('');
      const badParent = await callError(api.logs.getLogs.bind(api.logs), { parent: `workflows/etl/runs/${runId}`, attempt: 0, afterSequence: 0, pageSize: 0, pageToken: '' });
      expect(details(badParent).fieldViolations[0]?.field).toBe('parent');
    });
  });

  describe('ListWorkflows filter', () => {
    it('filters by labels, paused and schedule, over gRPC and REST; a token only pages on with its own filter', async () => {
      const labelled = (name: string, labels: string, schedule = '') =>
        `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata:\n  name: ${name}\n  labels: {${labels}}\nspec:\n${schedule ? `  schedule: "${schedule}"\n` : ''}  tasks: [{name: t, command: ["true"]}]\n`;
      for (const [name, labels, schedule] of [['flt-a', 'team: data-flt', ''], ['flt-b', 'team: data-flt, tier: gold', '@daily'], ['flt-c', 'team: web-flt', ''], ['flt-d', 'team: data-flt', '']]) {
        await call(api.workflows.applyWorkflow.bind(api.workflows), { source: labelled(name as string, labels as string, schedule), fileName: 'f.yaml' });
      }
      await call(api.workflows.pauseWorkflow.bind(api.workflows), { name: 'workflows/flt-d' });
      const ids = async (filter: string, pageSize = 100) =>
        (await call(api.workflows.listWorkflows.bind(api.workflows), { pageSize, pageToken: '', filter })).workflows.map((w) => w.workflowId).filter((id) => id.startsWith('flt-'));
      expect(await ids('labels.team = "data-flt"')).toEqual(['flt-a', 'flt-b', 'flt-d']);
      expect(await ids('labels.team = "data-flt" AND paused = false')).toEqual(['flt-a', 'flt-b']);
      expect(await ids('labels.tier:*')).toEqual(['flt-b']);
      expect(await ids('labels.tier != "gold" AND scheduled = false')).toEqual(['flt-a', 'flt-c', 'flt-d']);
      expect(await ids('scheduled = true')).toEqual(['flt-b']);
      // Metacharacters are values, never SQL.
      expect(await ids(`labels.team = "data' OR '1'='1"`)).toEqual([]);
      const first = await call(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 1, pageToken: '', filter: 'labels.team = "data-flt"' });
      expect(first.workflows.map((w) => w.workflowId)).toEqual(['flt-a']);
      const next = await call(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 5, pageToken: first.nextPageToken, filter: 'labels.team = "data-flt"' });
      expect(next.workflows.map((w) => w.workflowId)).toEqual(['flt-b', 'flt-d']);
      const mismatch = await callError(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 5, pageToken: first.nextPageToken, filter: '' });
      expect(mismatch.code).toBe(status.INVALID_ARGUMENT);
      const bad = await callError(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 5, pageToken: '', filter: 'owner = "x"' });
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      expect(decodeErrorDetails(bad.metadata).fieldViolations[0]).toMatchObject({ field: 'filter', description: expect.stringContaining('unknown field "owner"') });
      const rest = await api.fetch(`/v1/workflows?filter=${encodeURIComponent('labels.tier = "gold"')}`);
      expect(((await rest.json()) as { workflows: { workflowId: string }[] }).workflows.map((w) => w.workflowId)).toEqual(['flt-b']);
      expect((await api.fetch(`/v1/workflows?filter=${encodeURIComponent('paused = 1')}`)).status).toBe(400);
    });
  });
});
