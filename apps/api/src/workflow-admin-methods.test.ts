import { status } from '@grpc/grpc-js';
import { decodeErrorDetails } from './status';
import { call, callError, startTestApi, workflowYaml, type TestApi } from './test-harness';

describe('ListWorkflowVersions and DeleteWorkflow', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const apply = (source: string) => call(api.workflows.applyWorkflow.bind(api.workflows), { source, fileName: 'v.yaml' });

  it('lists versions newest first, page by page', async () => {
    for (const command of ['echo', 'true', 'printf']) await apply(workflowYaml('versioned', { command }));
    const versions: number[] = [];
    let pageToken = '';
    do {
      const page = await call(api.workflows.listWorkflowVersions.bind(api.workflows), { parent: 'workflows/versioned', pageSize: 2, pageToken });
      versions.push(...page.versions.map((v) => v.version));
      expect(page.versions.every((v) => v.name === `workflows/versioned/versions/${v.version}`)).toBe(true);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(versions).toEqual([3, 2, 1]);

    const missing = await callError(api.workflows.listWorkflowVersions.bind(api.workflows), { parent: 'workflows/nope', pageSize: 0, pageToken: '' });
    expect(missing.code).toBe(status.NOT_FOUND);
    const badToken = await callError(api.workflows.listWorkflowVersions.bind(api.workflows), { parent: 'workflows/versioned', pageSize: 0, pageToken: 'x' });
    expect(badToken.code).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses to delete a workflow with an active run, then deletes it and its runs', async () => {
    await apply(workflowYaml('doomed'));
    const { run } = await call(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/doomed', params: {}, requestId: '' });
    const refused = await callError(api.workflows.deleteWorkflow.bind(api.workflows), { name: 'workflows/doomed' });
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(decodeErrorDetails(refused.metadata).errorInfo?.reason).toBe('WORKFLOW_HAS_ACTIVE_RUNS');

    await api.scheduler.finishRun(run!.runId, 'cancelled');
    await call(api.workflows.deleteWorkflow.bind(api.workflows), { name: 'workflows/doomed' });
    expect((await callError(api.workflows.getWorkflow.bind(api.workflows), { name: 'workflows/doomed' })).code).toBe(status.NOT_FOUND);
    expect((await callError(api.runs.getRun.bind(api.runs), { name: `workflows/-/runs/${run!.runId}` })).code).toBe(status.NOT_FOUND);
    expect((await callError(api.workflows.deleteWorkflow.bind(api.workflows), { name: 'workflows/doomed' })).code).toBe(status.NOT_FOUND);

    const rest = await api.fetch(`/v1/workflows/doomed`, { method: 'DELETE' });
    expect(rest.status).toBe(404);
  });
});
