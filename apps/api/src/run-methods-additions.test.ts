import { status } from '@grpc/grpc-js';
import { RunState, TaskRunState } from '@skein/proto';
import { call, callError, startTestApi, workflowYaml, type TestApi } from './test-harness';

describe('ListRuns filters, GetTaskRun and TriggerRun request_id', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
    await call(api.workflows.applyWorkflow.bind(api.workflows), { source: workflowYaml('filtered'), fileName: 'f.yaml' });
  });

  afterAll(async () => {
    await api.close();
  });

  const trigger = async (requestId = '') =>
    (await call(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/filtered', params: {}, requestId })).run!;
  const list = (filter: { state?: RunState; createTimeAfter?: Date; createTimeBefore?: Date }) =>
    call(api.runs.listRuns.bind(api.runs), {
      parent: 'workflows/filtered', pageSize: 0, pageToken: '', state: filter.state ?? RunState.RUN_STATE_UNSPECIFIED,
      createTimeAfter: filter.createTimeAfter, createTimeBefore: filter.createTimeBefore,
    });

  it('filters runs by state and by create time', async () => {
    const a = await trigger();
    const b = await trigger();
    await api.scheduler.finishRun(a.runId, 'failed', 'x');
    expect((await list({ state: RunState.RUN_STATE_FAILED })).runs.map((r) => r.runId)).toEqual([a.runId]);
    expect((await list({ state: RunState.RUN_STATE_QUEUED })).runs.map((r) => r.runId)).toEqual([b.runId]);
    expect((await list({ createTimeAfter: b.createTime })).runs.map((r) => r.runId)).toContain(b.runId);
    expect((await list({ createTimeBefore: a.createTime })).runs.map((r) => r.runId)).not.toContain(a.runId);
    expect((await list({ createTimeAfter: new Date(Date.now() + 3_600_000) })).runs).toEqual([]);

    const rest = await api.fetch(`/v1/workflows/filtered/runs?state=failed`);
    expect(((await rest.json()) as { runs: { runId: string }[] }).runs.map((r) => r.runId)).toEqual([a.runId]);
    expect((await api.fetch(`/v1/workflows/filtered/runs?state=bogus`)).status).toBe(400);
    expect((await api.fetch(`/v1/workflows/filtered/runs?createTimeAfter=yesterday`)).status).toBe(400);
  });

  it('gets one task run with its attempts', async () => {
    const run = await trigger();
    const { taskRun } = await call(api.runs.getTaskRun.bind(api.runs), { name: `workflows/-/runs/${run.runId}/tasks/extract` });
    expect(taskRun?.state).toBe(TaskRunState.TASK_RUN_STATE_QUEUED);
    expect(taskRun?.attempts).toHaveLength(1);
    const missing = await callError(api.runs.getTaskRun.bind(api.runs), { name: `workflows/-/runs/${run.runId}/tasks/nope` });
    expect(missing.code).toBe(status.NOT_FOUND);
    const rest = await api.fetch(`/v1/workflows/filtered/runs/${run.runId}/tasks/load`);
    expect(((await rest.json()) as { taskRun: { task: string } }).taskRun.task).toBe('load');
  });

  it('returns the first run for a repeated request_id, also when sent concurrently', async () => {
    const [one, two] = await Promise.all([trigger('order-42'), trigger('order-42')]);
    expect(two.runId).toBe(one.runId);
    expect((await trigger('order-42')).runId).toBe(one.runId);
    expect((await trigger('order-43')).runId).not.toBe(one.runId);
    const bad = await callError(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/filtered', params: {}, requestId: 'no spaces' });
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    const rest = await api.fetch(`/v1/workflows/filtered/runs`, { method: 'POST', body: JSON.stringify({ requestId: 'order-42' }) });
    expect(((await rest.json()) as { run: { runId: string } }).run.runId).toBe(one.runId);
  });
});
