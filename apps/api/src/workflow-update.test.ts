import { status } from '@grpc/grpc-js';
import { workflowDigest, type WorkflowSpec } from '@skein/domain';
import type { Workflow } from '@skein/proto';
import { applyWorkflow, ConcurrentChangeError, getWorkflow } from '@skein/store';
import { decodeErrorDetails } from './status';
import { call, callError, startTestApi, workflowYaml, type TestApi } from './test-harness';

/** A workflow document as CreateWorkflow and UpdateWorkflow take it: the file's content as JSON. */
function document(name: string | undefined, command = 'echo', labels: Record<string, string> = { team: 'data' }): Record<string, unknown> {
  return {
    apiVersion: 'skein.dev/v1', kind: 'Workflow',
    metadata: { ...(name === undefined ? {} : { name }), labels },
    spec: { tasks: [{ name: 'extract', command: [command, 'x'] }, { name: 'load', dependsOn: ['extract'], command: ['echo', 'y'] }] },
  };
}

function workflow(fields: Partial<Workflow>): Workflow {
  return { name: '', workflowId: '', currentVersion: 0, labels: {}, schedule: '', spec: undefined, createTime: undefined, updateTime: undefined, paused: false, ...fields };
}

function withLabelsOf(spec: WorkflowSpec, labels: Record<string, string>): WorkflowSpec {
  return { ...spec, metadata: { ...spec.metadata, labels } };
}

describe('CreateWorkflow and UpdateWorkflow', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const create = (w: Workflow, workflowId = '') => call(api.workflows.createWorkflow.bind(api.workflows), { workflow: w, workflowId });
  const createError = (w: Workflow | undefined, workflowId = '') => callError(api.workflows.createWorkflow.bind(api.workflows), { workflow: w, workflowId });
  const update = (w: Workflow, updateMask?: string[], allowMissing = false) =>
    call(api.workflows.updateWorkflow.bind(api.workflows), { workflow: w, updateMask, allowMissing });
  const updateError = (w: Workflow, updateMask?: string[], allowMissing = false) =>
    callError(api.workflows.updateWorkflow.bind(api.workflows), { workflow: w, updateMask, allowMissing });

  describe('CreateWorkflow', () => {
    it('creates a workflow at version 1 and fails ALREADY_EXISTS the second time', async () => {
      const created = await create(workflow({ spec: document(undefined), paused: true }), 'created');
      expect(created.workflow).toMatchObject({ name: 'workflows/created', currentVersion: 1, labels: { team: 'data' }, paused: true });
      expect(created.version?.name).toBe('workflows/created/versions/1');

      const again = await createError(workflow({ spec: document('created') }));
      expect(again.code).toBe(status.ALREADY_EXISTS);
      expect(decodeErrorDetails(again.metadata).errorInfo).toMatchObject({ reason: 'WORKFLOW_ALREADY_EXISTS', domain: 'skein.dev', metadata: { resource: 'workflows/created' } });
      // The refused create changed nothing.
      const got = await call(api.workflows.getWorkflow.bind(api.workflows), { name: 'workflows/created' });
      expect(got.workflow?.currentVersion).toBe(1);
    });

    it('fails ALREADY_EXISTS for a workflow created by ApplyWorkflow', async () => {
      await call(api.workflows.applyWorkflow.bind(api.workflows), { source: workflowYaml('applied'), fileName: 'a.yaml' });
      expect((await createError(workflow({ spec: document('applied') }))).code).toBe(status.ALREADY_EXISTS);
    });

    it('labels in the request replace the document labels', async () => {
      const created = await create(workflow({ spec: document('labelled'), labels: { team: 'ml', tier: 'gold' } }));
      expect(created.workflow?.labels).toEqual({ team: 'ml', tier: 'gold' });
    });

    it('rejects a missing workflow, a missing spec, a mismatched id and an invalid document, naming the field', async () => {
      const none = await createError(undefined);
      expect(none.code).toBe(status.INVALID_ARGUMENT);
      expect(decodeErrorDetails(none.metadata).fieldViolations[0]?.field).toBe('workflow');

      const noSpec = await createError(workflow({}), 'x');
      expect(decodeErrorDetails(noSpec.metadata).fieldViolations[0]?.field).toBe('workflow.spec');

      const mismatch = await createError(workflow({ spec: document('one') }), 'two');
      expect(mismatch.code).toBe(status.INVALID_ARGUMENT);
      expect(decodeErrorDetails(mismatch.metadata).fieldViolations[0]?.field).toBe('workflow_id');

      const invalid = await createError(workflow({ spec: { ...document('bad'), spec: { tasks: [{ name: 'a', dependsOn: ['ghost'], command: ['x'] }] } } }));
      expect(invalid.code).toBe(status.INVALID_ARGUMENT);
      expect(decodeErrorDetails(invalid.metadata).errorInfo?.reason).toBe('WORKFLOW_INVALID');
      expect(decodeErrorDetails(invalid.metadata).fieldViolations[0]?.field).toMatch(/^workflow\.spec\.spec\.tasks\[0\]\.dependsOn/);

      const badId = await createError(workflow({ spec: document(undefined) }), '../etc');
      expect(decodeErrorDetails(badId.metadata).fieldViolations[0]?.field).toBe('workflow_id');

      const badLabel = await createError(workflow({ spec: document('labels-bad'), labels: { 'no spaces': 'x' } }));
      expect(badLabel.code).toBe(status.INVALID_ARGUMENT);
      expect(decodeErrorDetails(badLabel.metadata).fieldViolations[0]?.field).toBe('workflow.labels.no spaces');
    });
  });

  describe('UpdateWorkflow', () => {
    it('updates only the fields the mask names', async () => {
      await create(workflow({ spec: document('masked') }));
      // Labels only: a new version with the same tasks.
      const relabelled = await update(workflow({ name: 'workflows/masked', labels: { team: 'ops' }, spec: document('masked', 'ignored'), paused: true }), ['labels']);
      expect(relabelled.versionCreated).toBe(true);
      expect(relabelled.workflow).toMatchObject({ currentVersion: 2, labels: { team: 'ops' }, paused: false });
      expect((relabelled.workflow?.spec?.['spec'] as { tasks: { command: string[] }[] }).tasks[0]?.command).toEqual(['echo', 'x']);

      // Paused only: no new version.
      const paused = await update(workflow({ name: 'workflows/masked', paused: true, labels: { team: 'ignored' } }), ['paused']);
      expect(paused).toMatchObject({ versionCreated: false, workflow: { currentVersion: 2, paused: true, labels: { team: 'ops' } } });

      // Spec: the document replaces the spec and brings its own labels.
      const respecced = await update(workflow({ name: 'workflows/masked', spec: document('masked', 'true', { team: 'data' }) }), ['spec']);
      expect(respecced.workflow).toMatchObject({ currentVersion: 3, labels: { team: 'data' }, paused: true });

      // The same spec again: no new version.
      const same = await update(workflow({ name: 'workflows/masked', spec: document('masked', 'true', { team: 'data' }) }), ['spec']);
      expect(same.versionCreated).toBe(false);

      // No mask: every field that is set (here labels).
      const implied = await update(workflow({ name: 'workflows/masked', labels: { team: 'implied' } }));
      expect(implied.workflow).toMatchObject({ currentVersion: 4, labels: { team: 'implied' }, paused: true });

      // `*`: a full replacement, so paused=false resumes it and the empty labels clear the document's.
      const all = await update(workflow({ name: 'workflows/masked', spec: document(undefined, 'echo'), paused: false }), ['*']);
      expect(all.workflow).toMatchObject({ currentVersion: 5, labels: {}, paused: false });

      const versions = await call(api.workflows.listWorkflowVersions.bind(api.workflows), { parent: 'workflows/masked', pageSize: 0, pageToken: '' });
      expect(versions.versions.map((v) => v.version)).toEqual([5, 4, 3, 2, 1]);
    });

    it('names an unknown or output-only mask path in INVALID_ARGUMENT', async () => {
      await create(workflow({ spec: document('mask-errors') }));
      const unknown = await updateError(workflow({ name: 'workflows/mask-errors' }), ['labels', 'colour']);
      expect(unknown.code).toBe(status.INVALID_ARGUMENT);
      const violation = decodeErrorDetails(unknown.metadata).fieldViolations[0];
      expect(violation?.field).toBe('update_mask');
      expect(violation?.description).toContain('"colour"');

      const outputOnly = await updateError(workflow({ name: 'workflows/mask-errors' }), ['current_version']);
      expect(decodeErrorDetails(outputOnly.metadata).fieldViolations[0]?.description).toContain('output only');
      expect((await updateError(workflow({ name: 'workflows/mask-errors' }), ['*', 'spec'])).code).toBe(status.INVALID_ARGUMENT);
      // A spec naming another workflow.
      const renamed = await updateError(workflow({ name: 'workflows/mask-errors', spec: document('other') }), ['spec']);
      expect(decodeErrorDetails(renamed.metadata).fieldViolations[0]?.field).toBe('workflow.name');
      // The failed updates changed nothing.
      expect((await call(api.workflows.getWorkflow.bind(api.workflows), { name: 'workflows/mask-errors' })).workflow?.currentVersion).toBe(1);
    });

    it('never writes over a version applied between its read and its write', async () => {
      await create(workflow({ spec: document('raced') }));
      const before = await getWorkflow(api.pool, 'raced');
      // Another writer applies a new version after our read...
      await update(workflow({ name: 'workflows/raced', spec: document('raced', 'true') }), ['spec']);
      // ...so a write built on the old read is refused, and the version it would have reverted stays.
      const relabelled = withLabelsOf(before!.spec, { team: 'stale' });
      await expect(applyWorkflow(api.pool, relabelled, workflowDigest(relabelled), { expect: 'present', ifCurrentDigest: before!.digest }))
        .rejects.toBeInstanceOf(ConcurrentChangeError);
      // UpdateWorkflow reads again and applies on top of the newer version.
      const after = await update(workflow({ name: 'workflows/raced', labels: { team: 'fresh' } }), ['labels']);
      expect(after.workflow).toMatchObject({ currentVersion: 3, labels: { team: 'fresh' } });
      expect((after.workflow?.spec?.['spec'] as { tasks: { command: string[] }[] }).tasks[0]?.command).toEqual(['true', 'x']);
    });

    it('fails NOT_FOUND for a missing workflow unless allow_missing creates it', async () => {
      const missing = await updateError(workflow({ name: 'workflows/ghost', spec: document(undefined) }), ['spec']);
      expect(missing.code).toBe(status.NOT_FOUND);
      expect(decodeErrorDetails(missing.metadata).errorInfo?.reason).toBe('WORKFLOW_NOT_FOUND');

      const created = await update(workflow({ name: 'workflows/ghost', spec: document(undefined), paused: true }), ['spec', 'paused'], true);
      expect(created).toMatchObject({ versionCreated: true, workflow: { name: 'workflows/ghost', currentVersion: 1, paused: true } });

      const badName = await updateError(workflow({ name: 'ghost' }), ['spec']);
      expect(decodeErrorDetails(badName.metadata).fieldViolations[0]?.field).toBe('workflow.name');
    });
  });

  describe('over REST', () => {
    async function request(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
      const res = await api.fetch(path, {
        method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    }

    it('POST /v1/workflows creates, 409 when it exists', async () => {
      const created = await request('POST', '/v1/workflows?workflowId=rest-made', { spec: document(undefined), labels: { team: 'web' } });
      expect(created.status).toBe(200);
      expect(created.body['workflow']).toMatchObject({ name: 'workflows/rest-made', currentVersion: 1, labels: { team: 'web' } });
      const again = await request('POST', '/v1/workflows', { spec: document('rest-made') });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: status.ALREADY_EXISTS, details: [{ reason: 'WORKFLOW_ALREADY_EXISTS' }] });
    });

    it('PATCH /v1/workflows/{name} updates the masked fields; 400 for a bad mask or body, 404 when missing', async () => {
      await request('POST', '/v1/workflows', { spec: document('rest-patched') });
      const patched = await request('PATCH', '/v1/workflows/rest-patched?updateMask=labels,paused', { labels: { team: 'patched' }, paused: true });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ versionCreated: true, workflow: { currentVersion: 2, labels: { team: 'patched' }, paused: true } });

      const badMask = await request('PATCH', '/v1/workflows/rest-patched?updateMask=nope', {});
      expect(badMask.status).toBe(400);
      expect(badMask.body['details']).toEqual(expect.arrayContaining([expect.objectContaining({ fieldViolations: [expect.objectContaining({ field: 'update_mask' })] })]));

      const badType = await request('PATCH', '/v1/workflows/rest-patched?updateMask=paused', { paused: 'yes' });
      expect(badType.status).toBe(400);
      expect(badType.body['message']).toContain('workflow.paused');

      expect((await request('PATCH', '/v1/workflows/rest-nobody?updateMask=labels', { labels: { a: 'b' } })).status).toBe(404);
      const upsert = await request('PATCH', '/v1/workflows/rest-nobody?allowMissing=true', { spec: document(undefined) });
      expect(upsert.status).toBe(200);
      expect(upsert.body['workflow']).toMatchObject({ name: 'workflows/rest-nobody', currentVersion: 1 });
    });
  });
});
