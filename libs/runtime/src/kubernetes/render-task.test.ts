import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { formatIssue, parseWorkflowFile, type WorkflowSpec } from '@skein/domain';
import { validateJob } from './job-schema.test-helper';
import { manifestToYaml, RENDER_PLACEHOLDER_ID, renderTaskJob } from './render-task';

const examples = path.join(__dirname, '..', '..', '..', '..', 'examples');
const source = ['templates/elixir.yaml', 'templates/rust.yaml', 'templates/python.yaml', 'polyglot.yaml']
  .map((file) => readFileSync(path.join(examples, file), 'utf8')).join('\n---\n');

function polyglot(): WorkflowSpec {
  const parsed = parseWorkflowFile(source, 'polyglot.yaml');
  expect(parsed.errors.map(formatIssue)).toEqual([]);
  return parsed.workflows[0]!.spec;
}

describe('renderTaskJob', () => {
  const settings = { namespace: 'default' };
  const logicalDate = new Date('2026-03-01T06:00:00Z');

  it.each(['ingest', 'score', 'report'])('renders a valid Job for %s of the polyglot example', (task) => {
    const job = renderTaskJob(polyglot(), task, { settings, logicalDate });
    expect(validateJob(job)).toEqual([]);
    // The YAML printed is the same object.
    const yaml = manifestToYaml(job);
    expect(parse(yaml)).toEqual(JSON.parse(JSON.stringify(job)));
    expect(validateJob(parse(yaml))).toEqual([]);
  });

  it('resolves the template, renders params and keeps what needs outputs', () => {
    const ingest = renderTaskJob(polyglot(), 'ingest', { settings, logicalDate });
    const container = ingest.spec.template.spec?.containers[0];
    expect(ingest.metadata.namespace).toBe('data');
    expect(ingest.metadata.labels).toMatchObject({ language: 'elixir', 'skein.dev/attempt': RENDER_PLACEHOLDER_ID });
    expect(container).toMatchObject({
      image: 'ghcr.io/acme/elixir-tasks:1.17-otp27',
      command: ['mix', 'run', 'priv/ingest.exs'],
      args: ['--season', '2026'],
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    });
    expect(ingest.spec.activeDeadlineSeconds).toBe(1800);
    const score = renderTaskJob(polyglot(), 'score', { settings, logicalDate, params: { season: '2027' } });
    expect(score.spec.template.spec?.containers[0]?.args).toEqual(['--input', '{{ tasks.ingest.outputs.path }}']);
    expect(score.spec.template.spec?.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }]);
    const report = renderTaskJob(polyglot(), 'report', { settings, logicalDate });
    expect(report.spec.template.spec?.containers[0]?.env).toEqual(expect.arrayContaining([
      { name: 'WAREHOUSE_PASSWORD', valueFrom: { secretKeyRef: { name: 'warehouse', key: 'password' } } },
      { name: 'REPORT_TITLE', value: 'Season 2026' },
    ]));
  });

  it('names the tasks when the one asked for does not exist', () => {
    expect(() => renderTaskJob(polyglot(), 'nope', { settings })).toThrow('workflow "polyglot" has no task "nope" (its tasks: ingest, score, report)');
  });
});
