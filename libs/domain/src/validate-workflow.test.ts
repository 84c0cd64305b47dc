import { formatIssue } from './issues';
import { parseWorkflowFile } from './parse-workflow';
import { parseRfc3339 } from './validate-workflow';

/** A workflow whose `spec:` body starts on line 5, indented two spaces. */
const withSpec = (body: string, metadata = '{name: w}') =>
  `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: ${metadata}\nspec:\n${body}`;
const TASKS = '  tasks: [{name: a, command: run}]\n';
const problems = (source: string) => parseWorkflowFile(source, 'w.yaml').errors.map(formatIssue);
const specOf = (source: string) => {
  const r = parseWorkflowFile(source, 'w.yaml');
  expect(r.errors.map(formatIssue)).toEqual([]);
  return r.workflows[0]!.spec;
};

describe('top level', () => {
  it('requires apiVersion, kind, metadata and spec, at the document position', () => {
    expect(problems('foo: 1\n')).toEqual([
      'w.yaml:1:1: foo: unknown field "foo"',
      'w.yaml:1:1: apiVersion: missing required field "apiVersion"',
      'w.yaml:1:1: kind: missing required field "kind"',
      'w.yaml:1:1: metadata: missing required field "metadata"',
      'w.yaml:1:1: spec: missing required field "spec"',
    ]);
  });

  it('requires the exact apiVersion', () => {
    expect(problems(withSpec(TASKS).replace('skein.dev/v1', 'skein.dev/v2'))).toEqual([
      'w.yaml:1:13: apiVersion: unsupported apiVersion "skein.dev/v2"; expected "skein.dev/v1"',
    ]);
  });

  it('rejects other kinds without checking their fields', () => {
    expect(problems('apiVersion: skein.dev/v1\nkind: CronJob\nmetadata: {name: elixir}\nimage: x\n')).toEqual([
      'w.yaml:2:7: kind: unsupported kind "CronJob"; expected "Workflow", "TaskTemplate" or "Pool"',
    ]);
  });

  it('suggests the kind and goes on checking a misspelt Workflow', () => {
    expect(problems(withSpec('  tasks: []\n').replace('kind: Workflow', 'kind: Workfow'))).toEqual([
      'w.yaml:2:7: kind: unsupported kind "Workfow" (did you mean "Workflow"?); expected "Workflow", "TaskTemplate" or "Pool"',
      'w.yaml:5:10: spec.tasks: a workflow needs at least one task',
    ]);
  });

  it('suggests the closest field for an unknown one', () => {
    expect(problems(withSpec(TASKS).replace('metadata:', 'metdata:'))).toEqual([
      'w.yaml:1:1: metadata: missing required field "metadata"',
      'w.yaml:3:1: metdata: unknown field "metdata" (did you mean "metadata"?)',
    ]);
  });
});

describe('metadata', () => {
  it('requires a DNS-label name', () => {
    expect(problems(withSpec(TASKS, '{labels: {a: b}}'))).toEqual(['w.yaml:3:11: metadata.name: missing required field "name"']);
    expect(problems(withSpec(TASKS, '{name: My_Flow}'))).toEqual([
      `w.yaml:3:18: metadata.name: "My_Flow" is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (try "my-flow")`,
    ]);
    expect(problems(withSpec(TASKS, '{name: 42}'))).toEqual(['w.yaml:3:18: metadata.name: must be a string, got the integer 42 (quote it: "42")']);
  });

  it('validates labels like Kubernetes', () => {
    expect(specOf(withSpec(TASKS, '{name: w, labels: {team: data, app.kubernetes.io/part-of: etl, empty: ""}}')).metadata.labels).toEqual({
      team: 'data',
      'app.kubernetes.io/part-of': 'etl',
      empty: '',
    });
    expect(problems(withSpec(TASKS, '{name: w, labels: {"a b": x, tier: -x, on: true}}'))).toEqual([
      expect.stringContaining('w.yaml:3:30: metadata.labels["a b"]: label key "a b" is invalid'),
      expect.stringContaining('w.yaml:3:46: metadata.labels.tier: label value "-x" is invalid'),
      'w.yaml:3:54: metadata.labels.on: must be a string, got the boolean true (quote it: "true")',
    ]);
  });

  it('rejects unknown metadata fields', () => {
    expect(problems(withSpec(TASKS, '{name: w, namespace: x}'))).toEqual(['w.yaml:3:21: metadata.namespace: unknown field "namespace"']);
  });
});

describe('spec', () => {
  it('applies defaults', () => {
    expect(specOf(withSpec(TASKS)).spec).toEqual({
      timezone: 'UTC',
      catchup: false,
      params: {},
      tasks: [expect.objectContaining({ name: 'a' })],
    });
  });

  it('requires tasks, a non-empty list', () => {
    expect(problems(withSpec('  catchup: true\n'))).toEqual(['w.yaml:5:3: spec.tasks: missing required field "tasks"']);
    expect(problems(withSpec('  tasks: []\n'))).toEqual(['w.yaml:5:10: spec.tasks: a workflow needs at least one task']);
    expect(problems(withSpec('  tasks:\n'))).toEqual(['w.yaml:5:9: spec.tasks: must be a list, got null']);
    expect(problems(withSpec('  tasks: {a: 1}\n'))).toEqual(['w.yaml:5:10: spec.tasks: must be a list, got a mapping']);
  });

  it('limits the number of tasks', () => {
    const tasks = Array.from({ length: 5001 }, (_, i) => `    - {name: t${i}, command: run}`).join('\n');
    expect(problems(withSpec(`  tasks:\n${tasks}\n`))).toEqual(['w.yaml:6:5: spec.tasks: too many tasks: 5001 (the limit is 5000)']);
  });

  it('keeps schedule, timezone, startDate, catchup, maxActiveRuns and description', () => {
    const spec = specOf(
      withSpec(`  description: Nightly ETL
  schedule: " @daily "
  timezone: Europe/Paris
  startDate: 2026-01-01T01:00:00+01:00
  catchup: true
  maxActiveRuns: 3
${TASKS}`),
    ).spec;
    expect(spec).toMatchObject({
      description: 'Nightly ETL',
      schedule: '@daily',
      timezone: 'Europe/Paris',
      startDate: '2026-01-01T00:00:00.000Z',
      catchup: true,
      maxActiveRuns: 3,
    });
  });

  it('keeps logRetentionDays (0 keeps logs forever) and rejects a bad one', () => {
    expect(specOf(withSpec(`  logRetentionDays: 7\n${TASKS}`)).spec.logRetentionDays).toBe(7);
    expect(specOf(withSpec(`  logRetentionDays: 0\n${TASKS}`)).spec.logRetentionDays).toBe(0);
    expect(specOf(withSpec(TASKS)).spec.logRetentionDays).toBeUndefined();
    expect(problems(withSpec(`  logRetentionDays: -1\n${TASKS}`))).toEqual(['w.yaml:5:21: spec.logRetentionDays: must be between 0 and 36500, got -1']);
    expect(problems(withSpec(`  logRetentionDays: 7d\n${TASKS}`))).toEqual(['w.yaml:5:21: spec.logRetentionDays: must be an integer, got the string "7d"']);
  });

  it('treats a null optional field as absent', () => {
    expect(specOf(withSpec(`  schedule:\n  params: ~\n  defaults:\n${TASKS}`)).spec).toEqual(specOf(withSpec(TASKS)).spec);
  });

  it('reports every bad spec field at once', () => {
    expect(
      problems(
        withSpec(`  schedule: "0 0 30 2 *"
  timezone: America/Chicag
  startDate: "2026-01-01"
  catchup: "yes"
  maxActiveRuns: 1.5
  description: [a]
  scheduel: x
${TASKS}`),
      ),
    ).toEqual([
      'w.yaml:5:13: spec.schedule: schedule "0 0 30 2 *" can never fire: no month it names has that day',
      'w.yaml:6:13: spec.timezone: unknown time zone "America/Chicag" (did you mean "America/Chicago"?): use an IANA name such as "America/Chicago" or "UTC"',
      'w.yaml:7:14: spec.startDate: "2026-01-01" is not an RFC 3339 timestamp such as "2026-01-01T00:00:00Z"',
      'w.yaml:8:12: spec.catchup: must be true or false, got the string "yes"',
      'w.yaml:9:18: spec.maxActiveRuns: must be an integer, got the number 1.5',
      'w.yaml:10:16: spec.description: must be a string, got a list',
      'w.yaml:11:3: spec.scheduel: unknown field "scheduel" (did you mean "schedule"?)',
    ]);
  });

  it('validates the schedule in all its forms', () => {
    for (const schedule of ['@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@midnight', '@annually', '*/15 9-17 * * mon-fri']) {
      expect(problems(withSpec(`  schedule: "${schedule}"\n${TASKS}`))).toEqual([]);
    }
    expect(problems(withSpec(`  schedule: "@dayly"\n${TASKS}`))).toEqual(['w.yaml:5:13: spec.schedule: unknown schedule preset "@dayly" (did you mean "@daily"?)']);
    expect(problems(withSpec(`  schedule: "0 * * *"\n${TASKS}`))).toEqual([
      'w.yaml:5:13: spec.schedule: a cron schedule has 5 fields (minute hour day-of-month month day-of-week), got 4 in "0 * * *"',
    ]);
  });
});

describe('params', () => {
  it('keeps typed params with defaults and descriptions', () => {
    const spec = specOf(
      withSpec(`  params:
    season: {type: string, default: "2026", description: The season}
    limit: {type: integer, default: 10}
    ratio: {type: number, default: 0.5}
    dry: {type: boolean, default: false}
    region: {type: string}
${TASKS}`),
    );
    expect(spec.spec.params).toEqual({
      season: { type: 'string', default: '2026', description: 'The season' },
      limit: { type: 'integer', default: 10 },
      ratio: { type: 'number', default: 0.5 },
      dry: { type: 'boolean', default: false },
      region: { type: 'string' },
    });
  });

  it('reports bad names, types and defaults', () => {
    expect(
      problems(
        withSpec(`  params:
    season: {type: string, default: 2026}
    limit: {type: integer, default: "5"}
    2nd: {type: strng}
    flag: {default: true}
    x: {type: number, default: [1], descr: y}
    y: 5
${TASKS}`),
      ),
    ).toEqual([
      'w.yaml:6:37: spec.params.season.default: must be a string, got the integer 2026 (quote it: "2026")',
      'w.yaml:7:37: spec.params.limit.default: must be an integer, got the string "5"',
      `w.yaml:8:5: spec.params["2nd"]: param name "2nd" must be an identifier: letters, digits and '_', not starting with a digit`,
      'w.yaml:8:17: spec.params["2nd"].type: unknown param type "strng" (did you mean "string"?); expected one of string, integer, number, boolean, enum, object',
      'w.yaml:9:11: spec.params.flag.type: missing required field "type"',
      'w.yaml:10:32: spec.params.x.default: must be a number, got a list',
      'w.yaml:10:37: spec.params.x.descr: unknown field "descr"',
      'w.yaml:11:8: spec.params.y: must be a mapping, got the integer 5',
    ]);
  });
});

describe('parseRfc3339', () => {
  it.each(['2026-01-01T00:00:00Z', '2026-01-01t00:00:00z', '2026-01-01 00:00:00Z', '2024-02-29T23:59:59.999+05:30', '2026-12-31T00:00:00-23:59'])('accepts %s', (s) => {
    expect(parseRfc3339(s)).toBeInstanceOf(Date);
  });
  it.each(['2026-01-01', '2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z', '2026-01-01T00:00:60Z', '2026-01-01T00:00:00', '2026-01-01T00:00:00+24:00', 'yesterday'])(
    'rejects %s',
    (s) => {
      expect(parseRfc3339(s)).toBeUndefined();
    },
  );
  it('converts offsets', () => {
    expect(parseRfc3339('2026-01-01T06:00:00+06:00')?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('enum params in a workflow file', () => {
  const withParams = (params: string) => `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n  params:\n${params}  tasks: [{name: a, command: x}]\n`;

  it('reads values and checks the default against them', () => {
    const ok = parseWorkflowFile(withParams('    env: {type: enum, values: [dev, prod], default: prod}\n'), 'w.yaml');
    expect(ok.errors).toEqual([]);
    expect(ok.workflows[0]?.spec.spec.params['env']).toEqual({ type: 'enum', values: ['dev', 'prod'], default: 'prod' });
    const bad = parseWorkflowFile(withParams('    env: {type: enum, values: [dev, prod], default: test}\n    n: {type: integer, values: [1]}\n    e: {type: enum}\n'), 'w.yaml');
    expect(bad.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'spec.params.env.default: must be one of "dev", "prod", got the string "test"',
      'spec.params.n.values: only an enum param takes values (this one is integer)',
      'spec.params.e.values: an enum param needs `values`: the list of allowed strings',
    ]);
  });
});

describe('endDate', () => {
  it('must be an RFC 3339 time after startDate', () => {
    const file = (dates: string) => `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n  schedule: "@daily"\n${dates}  tasks: [{name: a, command: x}]\n`;
    expect(parseWorkflowFile(file('  startDate: "2026-01-01T00:00:00Z"\n  endDate: "2026-02-01T00:00:00Z"\n'), 'w.yaml').workflows[0]?.spec.spec.endDate).toBe('2026-02-01T00:00:00.000Z');
    expect(parseWorkflowFile(file('  startDate: "2026-02-01T00:00:00Z"\n  endDate: "2026-01-01T00:00:00Z"\n'), 'w.yaml').errors.map(formatIssue))
      .toEqual(['w.yaml:7:12: spec.endDate: endDate 2026-01-01T00:00:00.000Z is not after startDate 2026-02-01T00:00:00.000Z: no run would ever be scheduled']);
    expect(parseWorkflowFile(file('  endDate: "soon"\n'), 'w.yaml').errors.map((e) => e.path)).toEqual(['spec.endDate']);
  });
});
