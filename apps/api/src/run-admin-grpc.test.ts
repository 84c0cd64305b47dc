import { status } from '@grpc/grpc-js';
import { RunState } from '@skein/proto';
import { decodeErrorDetails } from './status';
import { call, callError, startTestApi, workflowYaml, type TestApi } from './test-harness';

/**
 * PauseWorkflow, ResumeWorkflow, CancelRun, BackfillRuns and RetryRun over gRPC, against the api's
 * own adapters (the CLI's e2e tests run them end to end against a real scheduler).
 */
describe('workflow and run administration over gRPC', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
    await call(api.workflows.applyWorkflow.bind(api.workflows), { source: workflowYaml('admin'), fileName: 'admin.yaml' });
    const daily = workflowYaml('daily').replace('spec:\n', 'spec:\n  schedule: "@daily"\n  startDate: "2026-01-01T00:00:00Z"\n');
    await call(api.workflows.applyWorkflow.bind(api.workflows), { source: daily, fileName: 'daily.yaml' });
  });

  afterAll(async () => {
    await api.close();
  });

  const field = (err: { metadata?: import('@grpc/grpc-js').Metadata }) => decodeErrorDetails(err.metadata).fieldViolations[0]?.field;

  it('pauses and resumes a workflow', async () => {
    const paused = await call(api.workflows.pauseWorkflow.bind(api.workflows), { name: 'workflows/daily' });
    expect(paused.workflow).toMatchObject({ name: 'workflows/daily', paused: true, schedule: '@daily' });
    const resumed = await call(api.workflows.resumeWorkflow.bind(api.workflows), { name: 'workflows/daily' });
    expect(resumed.workflow?.paused).toBe(false);

    const missing = await callError(api.workflows.pauseWorkflow.bind(api.workflows), { name: 'workflows/nope' });
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(decodeErrorDetails(missing.metadata).errorInfo?.reason).toBe('WORKFLOW_NOT_FOUND');
    const malformed = await callError(api.workflows.resumeWorkflow.bind(api.workflows), { name: 'daily' });
    expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    expect(field(malformed)).toBe('name');
  });

  it('cancels a run once; a second cancel changes nothing', async () => {
    const { run } = await call(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/admin', params: {}, requestId: '' });
    const name = `workflows/admin/runs/${run!.runId}`;
    const first = await call(api.runs.cancelRun.bind(api.runs), { name, reason: 'not needed' });
    expect(first).toMatchObject({ cancelled: true, run: { state: RunState.RUN_STATE_CANCELLED } });
    const second = await call(api.runs.cancelRun.bind(api.runs), { name, reason: '' });
    expect(second.cancelled).toBe(false);

    const tooLong = await callError(api.runs.cancelRun.bind(api.runs), { name, reason: 'r'.repeat(1025) });
    expect(tooLong.code).toBe(status.INVALID_ARGUMENT);
    expect(field(tooLong)).toBe('reason');
    const missing = await callError(api.runs.cancelRun.bind(api.runs), { name: 'workflows/admin/runs/nope', reason: '' });
    expect(missing.code).toBe(status.NOT_FOUND);
  });

  it('backfills the data intervals of a range, and explains a range it cannot', async () => {
    const created = await call(api.runs.backfillRuns.bind(api.runs), {
      parent: 'workflows/daily', startTime: new Date('2026-01-01T00:00:00Z'), endTime: new Date('2026-01-04T00:00:00Z'), rerunSucceeded: false, params: {}, maxActive: 0,
    });
    expect(created.runs.map((r) => r.logicalDate?.toISOString()).sort()).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']);

    const reversed = await callError(api.runs.backfillRuns.bind(api.runs), {
      parent: 'workflows/daily', startTime: new Date('2026-01-04T00:00:00Z'), endTime: new Date('2026-01-01T00:00:00Z'), rerunSucceeded: false, params: {}, maxActive: 0,
    });
    expect(decodeErrorDetails(reversed.metadata)).toMatchObject({ errorInfo: { reason: 'BACKFILL_INVALID' }, fieldViolations: [{ field: 'end_time' }] });
    const unscheduled = await callError(api.runs.backfillRuns.bind(api.runs), {
      parent: 'workflows/admin', startTime: new Date('2026-01-01T00:00:00Z'), endTime: new Date('2026-01-02T00:00:00Z'), rerunSucceeded: false, params: {}, maxActive: 0,
    });
    expect(field(unscheduled)).toBe('parent');
    const farFuture = await callError(api.runs.backfillRuns.bind(api.runs), {
      parent: 'workflows/daily', startTime: new Date('2026-01-01T00:00:00Z'), endTime: new Date(8.64e15), rerunSucceeded: false, params: {}, maxActive: 0,
    });
    expect(farFuture.code).toBe(status.INVALID_ARGUMENT);
    expect(field(farFuture)).toBe('end_time');
  });

  it('refuses a RetryRun of a run that does not exist or is named wrongly', async () => {
    const missing = await callError(api.runs.retryRun.bind(api.runs), { name: 'workflows/admin/runs/nope', task: '' });
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(decodeErrorDetails(missing.metadata).errorInfo?.reason).toBe('RUN_NOT_FOUND');
    const malformed = await callError(api.runs.retryRun.bind(api.runs), { name: 'runs/x', task: '' });
    expect(field(malformed)).toBe('name');
    const { run } = await call(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/admin', params: {}, requestId: '' });
    const longTask = await callError(api.runs.retryRun.bind(api.runs), { name: `workflows/admin/runs/${run!.runId}`, task: 't'.repeat(2000) });
    expect(field(longTask)).toBe('task');
  });
});
