import { status } from '@grpc/grpc-js';
import { MAX_TASKS } from '@skein/domain';
import { MAX_FILE_NAME_LENGTH, MAX_NAME_LENGTH, MAX_PARAM_VALUE_BYTES, MAX_PARAMS_BYTES } from './limits';
import { decodeErrorDetails, MAX_GRPC_MESSAGE_CHARS } from './status';
import { call, callError, startTestApi, workflowYaml, type TestApi } from './test-harness';
import { MAX_WORKFLOW_SOURCE_BYTES } from './workflow-methods';

/** Every limit of docs/api.md's table, hit once: INVALID_ARGUMENT (HTTP 400) naming the field. */
describe('limits', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
    await call(api.workflows.applyWorkflow.bind(api.workflows), {
      source: workflowYaml('limited', { params: '    note: {type: string, default: ""}' }), fileName: 'limited.yaml',
    });
  });

  afterAll(async () => {
    await api.close();
  });

  const field = (err: { metadata?: import('@grpc/grpc-js').Metadata }) => decodeErrorDetails(err.metadata).fieldViolations[0]?.field;
  const trigger = (params: Record<string, unknown>) =>
    callError(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/limited', params, requestId: '' });

  it('refuses a workflow file over the size limit and a workflow with too many tasks', async () => {
    const huge = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source: `# ${'x'.repeat(MAX_WORKFLOW_SOURCE_BYTES)}`, fileName: '' });
    expect(huge.code).toBe(status.INVALID_ARGUMENT);
    expect(field(huge)).toBe('source');

    const tasks = Array.from({ length: MAX_TASKS + 1 }, (_, i) => `    - {name: t${i}, command: [x]}`).join('\n');
    const many = await callError(api.workflows.applyWorkflow.bind(api.workflows), {
      source: `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: many}\nspec:\n  tasks:\n${tasks}\n`, fileName: 'many.yaml',
    });
    expect(many.code).toBe(status.INVALID_ARGUMENT);
    expect(field(many)).toBe('spec.tasks');
    expect(many.details).toContain(`the limit is ${MAX_TASKS}`);
  });

  it('refuses params over the total and the per-value limit', async () => {
    const oneBig = await trigger({ note: 'x'.repeat(MAX_PARAM_VALUE_BYTES) });
    expect(oneBig.code).toBe(status.INVALID_ARGUMENT);
    expect(field(oneBig)).toBe('params.note');

    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, 'x'.repeat(MAX_PARAMS_BYTES / 10)]));
    const total = await trigger(many);
    expect(total.code).toBe(status.INVALID_ARGUMENT);
    expect(field(total)).toBe('params');

    const rest = await api.fetch(`/v1/workflows/limited/runs`, {
      method: 'POST', body: JSON.stringify({ params: { note: 'x'.repeat(MAX_PARAM_VALUE_BYTES) } }), signal: AbortSignal.timeout(10_000),
    });
    expect(rest.status).toBe(400);
  });

  it('refuses over-long names and file names without echoing them whole', async () => {
    const longName = `workflows/${'a'.repeat(MAX_NAME_LENGTH)}`;
    const err = await callError(api.workflows.getWorkflow.bind(api.workflows), { name: longName });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(field(err)).toBe('name');
    expect(err.details.length).toBeLessThan(300);

    // A segment under the name limit but over the id limit is quoted, cut short.
    const longSegment = await callError(api.workflows.getWorkflow.bind(api.workflows), { name: `workflows/${'b'.repeat(600)}` });
    expect(longSegment.code).toBe(status.INVALID_ARGUMENT);
    expect(longSegment.details.length).toBeLessThan(400);

    const fileName = await callError(api.workflows.validateWorkflow.bind(api.workflows), { source: workflowYaml('ok'), fileName: 'f'.repeat(MAX_FILE_NAME_LENGTH + 1) });
    expect(field(fileName)).toBe('file_name');
  });

  it('keeps an error with thousands of issues small enough for trailers, and the connection usable', async () => {
    const tasks = Array.from({ length: 3000 }, (_, i) => `    - {name: Bad_${i}, command: [x]}`).join('\n');
    const err = await callError(api.workflows.validateWorkflow.bind(api.workflows), {
      source: `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: noisy}\nspec:\n  tasks:\n${tasks}\n`, fileName: 'noisy.yaml',
    });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details.length).toBeLessThan(MAX_GRPC_MESSAGE_CHARS + 200);
    expect(err.details).toContain('more field violations not shown');
    const details = decodeErrorDetails(err.metadata);
    expect(details.errorInfo?.reason).toBe('WORKFLOW_INVALID');
    expect(details.fieldViolations.length).toBeGreaterThan(0);
    expect(details.fieldViolations.length).toBeLessThan(3000);
    // The whole rich error stays under C-core's 8 KiB default metadata limit.
    const trailerBytes = err.metadata.get('grpc-status-details-bin').reduce((n, v) => n + Buffer.byteLength(v as Buffer) * 4 / 3, 0) + err.details.length;
    expect(trailerBytes).toBeLessThan(8 * 1024);
    // The same client goes on working.
    const list = await call(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 1, pageToken: '', filter: '' });
    expect(list.workflows.length).toBe(1);
  });

  it('validates a file of thousands of unknown dependencies within the call deadline', async () => {
    // Each unknown name used to be compared with every task name for a "did you mean": minutes of CPU.
    const tasks = Array.from({ length: 3000 }, (_, i) => `    - {name: t${i}, dependsOn: [ghost${i}], command: [x]}`).join('\n');
    const err = await callError(api.workflows.validateWorkflow.bind(api.workflows), {
      source: `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: ghosts}\nspec:\n  tasks:\n${tasks}\n`, fileName: 'ghosts.yaml',
    });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeErrorDetails(err.metadata).errorInfo?.reason).toBe('WORKFLOW_INVALID');
  });

  it('reads a page size above the maximum as the maximum and refuses a negative one', async () => {
    const page = await call(api.workflows.listWorkflows.bind(api.workflows), { pageSize: 2 ** 31 - 1, pageToken: '', filter: '' });
    expect(page.workflows.map((w) => w.workflowId)).toContain('limited');
    const negative = await callError(api.workflows.listWorkflows.bind(api.workflows), { pageSize: -5, pageToken: '', filter: '' });
    expect(field(negative)).toBe('page_size');
  });

  it('answers 413 with a google.rpc.Status for a REST body over the limit', async () => {
    const res = await api.fetch(`/v1/workflows:apply`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'x'.repeat(3 * 1024 * 1024) }), signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({ code: status.INVALID_ARGUMENT, details: [{ reason: 'REQUEST_TOO_LARGE', domain: 'skein.dev' }] });
  });

  it('answers 431 with a google.rpc.Status for a URL over the header limit', async () => {
    const res = await api.fetch(`/v1/workflows?pageToken=${'a'.repeat(20_000)}`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(431);
    expect(await res.json()).toMatchObject({ code: status.INVALID_ARGUMENT, details: [{ reason: 'HEADERS_TOO_LARGE', domain: 'skein.dev' }] });
    // The server goes on serving.
    expect((await api.fetch(`/healthz`, { signal: AbortSignal.timeout(10_000) })).status).toBe(200);
  });
});
