import { readFileSync } from 'node:fs';
import path from 'node:path';
import { formatIssue } from './issues';
import { parseWorkflowFile } from './parse-workflow';
import type { TaskTemplateSpec } from './task-template';

const examples = path.join(__dirname, '..', '..', '..', 'examples');
const read = (file: string) => readFileSync(path.join(examples, file), 'utf8');
const polyglotFile = ['templates/elixir.yaml', 'templates/rust.yaml', 'templates/python.yaml', 'polyglot.yaml'].map(read).join('\n---\n');

describe('task templates', () => {
  it('parses the example templates and resolves them into the polyglot workflow', () => {
    const parsed = parseWorkflowFile(polyglotFile, 'polyglot.yaml');
    expect(parsed.errors.map(formatIssue)).toEqual([]);
    expect(parsed.templates.map((t) => t.spec.metadata.name)).toEqual(['elixir', 'rust', 'python']);
    expect(parsed.templates[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
    const [ingest, score, report] = parsed.workflows[0]!.spec.spec.tasks;
    expect(ingest).toMatchObject({
      image: 'ghcr.io/acme/elixir-tasks:1.17-otp27',
      command: ['mix', 'run', 'priv/ingest.exs'],
      args: ['--season', '{{ params.season }}'],
      env: [{ name: 'MIX_ENV', value: 'prod', secret: false }, { name: 'ERL_AFLAGS', value: '+S 2', secret: false }],
      retries: 2,
      retryDelayMs: 30_000,
      timeoutMs: 1_800_000,
      kubernetes: { namespace: 'data', nodeSelector: { workload: 'batch' }, imagePullPolicy: 'IfNotPresent', labels: { language: 'elixir' } },
    });
    // The task's own resources merge over the template's by key.
    expect(score!.kubernetes?.resources).toEqual({ requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } });
    expect(score!.kubernetes?.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(score!.command).toEqual(['/usr/local/bin/score']);
    expect(report).toMatchObject({
      command: ['python', '-m', 'reports.weekly'],
      env: [{ name: 'PYTHONUNBUFFERED', value: '1', secret: false }, { name: 'REPORT_TITLE', value: 'Season {{ params.season }}', secret: false }],
      kubernetes: { serviceAccountName: 'skein-tasks', envValueFrom: [{ name: 'WAREHOUSE_PASSWORD', valueFrom: { secretKeyRef: { name: 'warehouse', key: 'password' } } }] },
    });
  });

  it('lets the task win and merges env by name', () => {
    const source = `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: w}
spec:
  defaults: {template: base, retries: 5}
  tasks:
    - {name: a, env: {MODE: fast}, retries: 1, image: "python:3.13"}
    - {name: b, command: [run]}
---
apiVersion: skein.dev/v1
kind: TaskTemplate
metadata: {name: base}
spec: {image: "python:3.12", retries: 3, env: {MODE: slow, KEEP: "yes"}, queue: gpu}
`;
    const parsed = parseWorkflowFile(source, 'w.yaml');
    expect(parsed.errors.map(formatIssue)).toEqual([]);
    const [a, b] = parsed.workflows[0]!.spec.spec.tasks;
    expect(a).toMatchObject({ image: 'python:3.13', retries: 1, queue: 'gpu', env: [{ name: 'KEEP', value: 'yes', secret: false }, { name: 'MODE', value: 'fast', secret: false }] });
    expect(b).toMatchObject({ image: 'python:3.12', retries: 3, command: ['run'] });
  });

  it('resolves stored templates after the file\'s own, and names an unknown one', () => {
    const stored: TaskTemplateSpec = { apiVersion: 'skein.dev/v1', kind: 'TaskTemplate', metadata: { name: 'rust', labels: {} }, spec: { image: 'rust:1.82' } };
    const source = `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: w}
spec:
  tasks:
    - {name: a, template: rust, command: [x]}
    - {name: b, template: elixr, command: [x]}
`;
    const parsed = parseWorkflowFile(source, 'w.yaml', { templates: (name) => (name === 'rust' ? stored : undefined), templateNames: () => ['rust', 'elixir'] });
    expect(parsed.errors.map(formatIssue)).toEqual([
      expect.stringMatching(/^w\.yaml:7:27: spec\.tasks\[1\]\.template: unknown template "elixr" \(did you mean "elixir"\?\)/),
    ]);
    const ok = parseWorkflowFile(source.replace('elixr', 'rust'), 'w.yaml', { templates: (name) => (name === 'rust' ? stored : undefined) });
    expect(ok.workflows[0]!.spec.spec.tasks[0]!.image).toBe('rust:1.82');
  });

  it('checks a template document like a workflow', () => {
    const source = `apiVersion: skein.dev/v1
kind: TaskTemplate
metadata: {name: Bad_Name}
spec:
  image: "UPPER:1"
  timeout: soon
  kubernetes: {resources: {limits: {memory: lots}}}
  colour: red
`;
    expect(parseWorkflowFile(source, 't.yaml').errors.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      '3:18 metadata.name',
      '5:10 spec.image',
      '6:12 spec.timeout',
      '7:45 spec.kubernetes.resources.limits.memory',
      '8:3 spec.colour',
    ]);
  });

  it('reports a volume mount whose volume no layer declares', () => {
    const source = `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: w}
spec:
  tasks:
    - {name: a, template: t, command: [x]}
---
apiVersion: skein.dev/v1
kind: TaskTemplate
metadata: {name: t}
spec: {kubernetes: {volumeMounts: [{name: data, mountPath: /data}]}}
`;
    expect(parseWorkflowFile(source, 'w.yaml').errors.map(formatIssue)).toEqual([
      'w.yaml:6:7: spec.tasks[0].kubernetes: volume mount "/data" names no declared volume "data"; add it to kubernetes.volumes',
    ]);
  });
});
