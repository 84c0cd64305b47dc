import { WorkflowValidationError } from './errors';
import { formatIssue } from './issues';
import { MAX_WORKFLOW_FILE_BYTES, parseWorkflowFile, workflowDigest } from './parse-workflow';

const problems = (source: string) => parseWorkflowFile(source, 'w.yaml').errors.map(formatIssue);

const example = `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: sports-etl, labels: {team: data}}
spec:
  schedule: "0 * * * *"
  timezone: America/Chicago
  startDate: "2026-01-01T00:00:00Z"
  catchup: false
  maxActiveRuns: 1
  params: {season: {type: string, default: "2026"}}
  defaults: {retries: 2, retryDelay: 30s, timeout: 1h}
  tasks:
    - name: extract
      command: ["mix", "run", "-e", "Etl.extract()"]
    - name: transform
      dependsOn: [extract]
      image: registry.example.com/data/transform:1.4
      args: ["--season", "{{ params.season }}"]
      triggerRule: allSuccess
`;

describe('parseWorkflowFile', () => {
  it('parses the architecture example into a normalised spec', () => {
    const { workflows, errors } = parseWorkflowFile(example, 'etl.yaml');
    expect(errors).toEqual([]);
    expect(workflows).toHaveLength(1);
    const [wf] = workflows;
    expect(wf?.document).toBe(0);
    expect(wf?.spec).toEqual({
      apiVersion: 'skein.dev/v1',
      kind: 'Workflow',
      metadata: { name: 'sports-etl', labels: { team: 'data' } },
      spec: {
        schedule: '0 * * * *',
        timezone: 'America/Chicago',
        startDate: '2026-01-01T00:00:00.000Z',
        catchup: false,
        maxActiveRuns: 1,
        params: { season: { type: 'string', default: '2026' } },
        tasks: [
          {
            name: 'extract',
            command: ['mix', 'run', '-e', 'Etl.extract()'],
            args: [],
            env: [],
            dependsOn: [],
            retries: 2,
            retryDelayMs: 30_000,
            timeoutMs: 3_600_000,
            queue: 'default',
            triggerRule: 'allSuccess',
          },
          {
            name: 'transform',
            image: 'registry.example.com/data/transform:1.4',
            command: [],
            args: ['--season', '{{ params.season }}'],
            env: [],
            dependsOn: ['extract'],
            retries: 2,
            retryDelayMs: 30_000,
            timeoutMs: 3_600_000,
            queue: 'default',
            triggerRule: 'allSuccess',
          },
        ],
      },
    });
    expect(wf?.digest).toBe(workflowDigest(wf!.spec));
    expect(wf?.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same digest for the same workflow written differently', () => {
    const json = JSON.stringify({
      kind: 'Workflow',
      apiVersion: 'skein.dev/v1',
      metadata: { labels: { team: 'data' }, name: 'sports-etl' },
      spec: {
        tasks: [
          { command: ['mix', 'run', '-e', 'Etl.extract()'], name: 'extract', retries: 2, retryDelay: 30, timeout: '60m' },
          { name: 'transform', dependsOn: ['extract'], image: 'registry.example.com/data/transform:1.4', args: ['--season', '{{ params.season }}'], retries: 2, retryDelay: '30s', timeout: 3600 },
        ],
        params: { season: { default: '2026', type: 'string' } },
        maxActiveRuns: 1,
        catchup: false,
        startDate: '2026-01-01T00:00:00+00:00',
        timezone: 'America/Chicago',
        schedule: '0  *  * * *',
      },
    });
    const a = parseWorkflowFile(example, 'a.yaml');
    const b = parseWorkflowFile(json, 'b.json');
    expect(b.errors).toEqual([]);
    expect(b.workflows[0]?.digest).toBe(a.workflows[0]?.digest);
    const changed = parseWorkflowFile(example.replace('retries: 2', 'retries: 3'), 'c.yaml');
    expect(changed.workflows[0]?.digest).not.toBe(a.workflows[0]?.digest);
  });

  it('parses several documents, reporting each document index', () => {
    const two = `${example}---\n${example.replace('name: sports-etl', 'name: other')}`;
    const { workflows, errors } = parseWorkflowFile(two, 'w.yaml');
    expect(errors).toEqual([]);
    expect(workflows.map((w) => [w.spec.metadata.name, w.document])).toEqual([
      ['sports-etl', 0],
      ['other', 1],
    ]);
  });

  it('skips empty documents and reports errors of each bad one while keeping the good ones', () => {
    const source = `---\n# nothing here\n---\n${example}---\n${example.replace('name: sports-etl', 'name: Bad')}---\n`;
    const { workflows, errors } = parseWorkflowFile(source, 'w.yaml');
    expect(workflows.map((w) => w.document)).toEqual([1]);
    expect(errors.map(formatIssue)).toEqual([
      expect.stringMatching(/^w\.yaml:26:18: metadata\.name: "Bad" is not a valid name/),
    ]);
  });

  it('reports a workflow name defined twice in one file', () => {
    expect(problems(`${example}---\n${example}`)).toEqual([
      'w.yaml:23:18: metadata.name: workflow "sports-etl" is defined twice in this file (also in document 1)',
    ]);
  });

  it('reports an empty file', () => {
    expect(problems('')).toEqual(['w.yaml:1:1: no workflow in file: it is empty']);
    expect(problems('# just a comment\n')).toEqual(['w.yaml:1:1: no workflow in file: it is empty']);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(problems('apiVersion: skein.dev/v1\nkind: [Workflow\n')).toEqual([
      'w.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(problems('a: b: c\n')).toEqual([expect.stringMatching(/^w\.yaml:1:4: /)]);
    expect(problems('a: 1\n\tb: 2\n')[0]).toMatch(/^w\.yaml:2:1: tabs are not allowed for indentation/);
  });

  it('reports a duplicate key', () => {
    expect(problems(example.replace('catchup: false', 'catchup: false\n  catchup: true'))).toEqual([
      'w.yaml:9:3: duplicate key: each field may appear once in a mapping',
    ]);
  });

  it('reports custom tags', () => {
    expect(problems(example.replace('timezone: America/Chicago', 'timezone: !Ref zone'))).toEqual([
      'w.yaml:6:13: Unresolved tag: !Ref: custom YAML tags are not supported',
      'w.yaml:6:18: spec.timezone: unknown time zone "zone": use an IANA name such as "America/Chicago" or "UTC"',
    ]);
  });

  it('follows aliases, reporting problems where the alias is used', () => {
    const source = `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: w}
spec:
  defaults: {retries: 1}
  tasks:
    - &base {name: a, command: run, retries: 3}
    - {name: b, command: run, dependsOn: [a]}
    - *base
`;
    expect(problems(source)).toEqual(['w.yaml:9:7: spec.tasks[2].name: duplicate task name "a" (first defined on line 7)']);
    const ok = parseWorkflowFile(source.replace('    - *base\n', '    - {name: c, command: run, env: &e {A: "1"}}\n    - {name: d, command: run, env: *e}\n'), 'w.yaml');
    expect(ok.errors).toEqual([]);
    expect(ok.workflows[0]?.spec.spec.tasks[3]?.env).toEqual([{ name: 'A', value: '1', secret: false }]);
  });

  it('stops an alias bomb', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const errors = problems(`${lines.join('\n')}\n`);
    expect(errors.some((e) => e.includes('document is too large'))).toBe(true);
  });

  it('rejects a file over 1 MiB with one issue', () => {
    const big = `${example}#${'x'.repeat(MAX_WORKFLOW_FILE_BYTES)}\n`;
    expect(problems(big)).toEqual([expect.stringMatching(/^w\.yaml:1:1: file is too large: \d+ bytes \(the limit is 1048576 bytes, 1 MiB\)$/)]);
  });

  it('reports a document that is not a mapping', () => {
    expect(problems('- a\n- b\n')).toEqual(['w.yaml:1:1: must be a mapping, got a list']);
    expect(problems('hello\n')).toEqual(['w.yaml:1:1: must be a mapping, got the string "hello"']);
  });

  it('reports non-scalar keys', () => {
    expect(problems(example.replace('catchup: false', '? [a]\n  : 1'))).toEqual(['w.yaml:8:5: a mapping key must be a string']);
  });

  it('sorts issues by position and joins them in WorkflowValidationError', () => {
    const { errors } = parseWorkflowFile(example.replace('maxActiveRuns: 1', 'maxActiveRuns: 0').replace('catchup: false', 'catchup: 1'), 'w.yaml');
    expect(errors.map((e) => e.line)).toEqual([8, 9]);
    const err = new WorkflowValidationError(errors);
    expect(err.message.split('\n')).toEqual([
      'w.yaml:8:12: spec.catchup: must be true or false, got the integer 1',
      'w.yaml:9:18: spec.maxActiveRuns: must be at least 1, got 0',
    ]);
  });

  it('never throws, whatever the input', () => {
    // Cut the example and a broken variant at every offset, and mangle characters: a cheap fuzz.
    const inputs: string[] = [];
    for (let i = 0; i < example.length; i += 7) {
      inputs.push(example.slice(0, i));
      inputs.push(example.slice(0, i) + '{' + example.slice(i + 1));
      inputs.push(example.slice(0, i) + ']' + example.slice(i));
      inputs.push(example.slice(0, i) + '\n  - ' + example.slice(i));
    }
    inputs.push('[1, 2', '{', '"', '---\n---\n---', ': :', '&a [*a]', '*x', 'null', '~', '42', 'true', '{a: b}');
    for (const input of inputs) {
      const result = parseWorkflowFile(input, 'f.yaml');
      expect(result.workflows.length + result.errors.length).toBeGreaterThan(0);
      for (const e of result.errors) {
        expect(e.line).toBeGreaterThanOrEqual(1);
        expect(e.column).toBeGreaterThanOrEqual(1);
        expect(e.message).not.toBe('');
      }
    }
  });
});
