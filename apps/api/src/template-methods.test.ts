import { readFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { parse } from 'yaml';
import { TemplateServiceClient } from '@skein/proto';
import { decodeErrorDetails } from './status';
import { call, callError, startTestApi, type TestApi } from './test-harness';

const examples = path.join(__dirname, '..', '..', '..', 'examples');
const read = (file: string) => readFileSync(path.join(examples, file), 'utf8');

describe('TemplateService', () => {
  let api: TestApi;
  let templates: TemplateServiceClient;

  beforeAll(async () => {
    api = await startTestApi();
    templates = new TemplateServiceClient(api.grpcAddress, credentials.createInsecure(), api.clientOptions);
  });

  afterAll(async () => {
    templates.close();
    await api.close();
  });

  const applyTemplate = (source: string) => call(templates.applyTemplate.bind(templates), { source, fileName: 't.yaml' });

  it('applies, versions, gets and lists templates', async () => {
    for (const language of ['elixir', 'rust', 'python']) {
      const { template, created } = await applyTemplate(read(`templates/${language}.yaml`));
      expect(created).toBe(true);
      expect(template).toMatchObject({ name: `templates/${language}`, templateId: language, currentVersion: 1 });
    }
    expect((await applyTemplate(read('templates/rust.yaml'))).created).toBe(false);
    const got = await call(templates.getTemplate.bind(templates), { name: 'templates/elixir' });
    expect(got.template?.spec).toMatchObject({ kind: 'TaskTemplate', spec: { image: 'ghcr.io/acme/elixir-tasks:1.17-otp27', command: ['mix', 'run'] } });
    const page = await call(templates.listTemplates.bind(templates), { pageSize: 2, pageToken: '' });
    expect(page.templates.map((t) => t.templateId)).toEqual(['elixir', 'python']);
    const next = await call(templates.listTemplates.bind(templates), { pageSize: 2, pageToken: page.nextPageToken });
    expect(next.templates.map((t) => t.templateId)).toEqual(['rust']);
    const missing = await callError(templates.getTemplate.bind(templates), { name: 'templates/cobol' });
    expect(missing.code).toBe(status.NOT_FOUND);
  });

  it('resolves stored templates when a workflow is applied, and stores the resolved tasks', async () => {
    const { version } = await call(api.workflows.applyWorkflow.bind(api.workflows), { source: read('polyglot.yaml'), fileName: 'polyglot.yaml' });
    const tasks = (version?.spec as { spec: { tasks: Array<{ name: string; image: string; command: string[] }> } }).spec.tasks;
    expect(tasks.map((t) => [t.name, t.image, t.command])).toEqual([
      ['ingest', 'ghcr.io/acme/elixir-tasks:1.17-otp27', ['mix', 'run', 'priv/ingest.exs']],
      ['score', 'ghcr.io/acme/rust-tasks:1.82', ['/usr/local/bin/score']],
      ['report', 'ghcr.io/acme/python-tasks:3.12', ['python', '-m', 'reports.weekly']],
    ]);
  });

  it('names an unknown template at apply time', async () => {
    const source = read('polyglot.yaml').replace('template: rust', 'template: rusty');
    const err = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source, fileName: 'polyglot.yaml' });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    const violations = decodeErrorDetails(err.metadata).fieldViolations;
    expect(violations.map((v) => v.field)).toEqual(['spec.tasks[1].template']);
    expect(violations[0]?.description).toMatch(/unknown template "rusty" \(did you mean "rust"\?\)/);
  });

  it('serves the templates over REST too', async () => {
    const list = await (await api.fetch(`/v1/templates?pageSize=10`)).json() as { templates: Array<{ templateId: string }> };
    expect(list.templates.map((t) => t.templateId)).toEqual(['elixir', 'python', 'rust']);
    const got = await api.fetch(`/v1/templates/rust`);
    expect(got.status).toBe(200);
    expect((await api.fetch(`/v1/templates/cobol`)).status).toBe(404);
    const rendered = await api.fetch(`/v1/templates:render`, {
      method: 'POST', body: JSON.stringify({ source: read('polyglot.yaml'), fileName: 'polyglot.yaml', task: 'score' }),
    });
    expect(rendered.status).toBe(200);
    expect(((await rendered.json()) as { manifestYaml: string }).manifestYaml).toContain('image: ghcr.io/acme/rust-tasks:1.82');
  });

  it('renders the Job of a task, resolving templates from the server', async () => {
    const rendered = await call(templates.renderTask.bind(templates), { source: read('polyglot.yaml'), fileName: 'polyglot.yaml', task: 'report', workflow: '', params: { season: '2030' }, namespace: '' });
    const job = parse(rendered.manifestYaml) as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } };
    // The Job itself is validated against the Kubernetes schema in libs/runtime (render-task.test.ts).
    expect(rendered.manifest).toEqual(job);
    expect(job.spec.template.spec.containers[0]?.env).toContainEqual({ name: 'REPORT_TITLE', value: 'Season 2030' });
    const unknown = await callError(templates.renderTask.bind(templates), { source: read('polyglot.yaml'), fileName: 'p.yaml', task: 'nope', workflow: '', params: {}, namespace: '' });
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(unknown.details).toMatch(/has no task "nope"/);
  });

  it('deletes a template; workflows stored with it keep their resolved tasks; a new apply naming it is an error', async () => {
    const source = read('templates/python.yaml').replace('name: python', 'name: doomed');
    expect((await applyTemplate(source)).created).toBe(true);
    const uses = 'apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: uses-doomed}\nspec:\n  tasks: [{name: t, template: doomed, command: [x]}]\n';
    await call(api.workflows.applyWorkflow.bind(api.workflows), { source: uses, fileName: 'u.yaml' });
    await call(templates.deleteTemplate.bind(templates), { name: 'templates/doomed' });
    expect((await callError(templates.getTemplate.bind(templates), { name: 'templates/doomed' })).code).toBe(status.NOT_FOUND);
    expect((await callError(templates.deleteTemplate.bind(templates), { name: 'templates/doomed' })).code).toBe(status.NOT_FOUND);
    const stored = await call(api.workflows.getWorkflow.bind(api.workflows), { name: 'workflows/uses-doomed' });
    expect((stored.workflow?.spec as { spec: { tasks: { image: string }[] } }).spec.tasks[0]?.image).toBe('ghcr.io/acme/python-tasks:3.12');
    const again = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source: uses.replace('command: [x]', 'command: [y]'), fileName: 'u.yaml' });
    expect(decodeErrorDetails(again.metadata).fieldViolations.map((v) => v.field)).toEqual(['spec.tasks[0].template']);
    await applyTemplate(source);
    expect((await api.fetch('/v1/templates/doomed', { method: 'DELETE' })).status).toBe(200);
    expect((await api.fetch('/v1/templates/doomed', { method: 'DELETE' })).status).toBe(404);
  });
});
