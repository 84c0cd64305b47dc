import { formatIssue } from './issues';
import { parseWorkflowFile } from './parse-workflow';
import type { TaskSpec } from './workflow';

/** A workflow whose `tasks:` items start on line 6 (`    - ...`). */
const withTasks = (tasks: string, extra = '') => `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n${extra}  tasks:\n${tasks}`;
const problems = (source: string) => parseWorkflowFile(source, 'w.yaml').errors.map(formatIssue);
const tasksOf = (source: string): readonly TaskSpec[] => {
  const r = parseWorkflowFile(source, 'w.yaml');
  expect(r.errors.map(formatIssue)).toEqual([]);
  return r.workflows[0]!.spec.spec.tasks;
};

describe('task fields', () => {
  it('fills every default', () => {
    expect(tasksOf(withTasks('    - {name: a, command: run}\n'))).toEqual([
      {
        name: 'a',
        command: ['run'],
        args: [],
        env: [],
        dependsOn: [],
        retries: 0,
        retryDelayMs: 10_000,
        timeoutMs: 0,
        queue: 'default',
        triggerRule: 'allSuccess',
      },
    ]);
  });

  it('keeps every field a task sets', () => {
    const [, b] = tasksOf(
      withTasks(`    - {name: a, command: run}
    - name: b
      description: Loads the data
      command: [python, -m, load]
      args: ["--date", "{{ run.logicalDate }}"]
      image: python:3.12
      env: {LOG_LEVEL: debug}
      dependsOn: [a]
      retries: 3
      retryDelay: 1m
      timeout: 2h
      queue: gpu
      triggerRule: allDone
`),
    );
    expect(b).toEqual({
      name: 'b',
      description: 'Loads the data',
      image: 'python:3.12',
      command: ['python', '-m', 'load'],
      args: ['--date', '{{ run.logicalDate }}'],
      env: [{ name: 'LOG_LEVEL', value: 'debug', secret: false }],
      dependsOn: ['a'],
      retries: 3,
      retryDelayMs: 60_000,
      timeoutMs: 7_200_000,
      queue: 'gpu',
      triggerRule: 'allDone',
    });
  });

  it('takes a command string as one program name, not a shell line', () => {
    expect(tasksOf(withTasks('    - {name: a, command: "echo hello"}\n'))[0]?.command).toEqual(['echo hello']);
  });

  it('accepts an image without a command', () => {
    expect(tasksOf(withTasks('    - {name: a, image: alpine, args: [echo, hi]}\n'))[0]).toMatchObject({ image: 'alpine', command: [], args: ['echo', 'hi'] });
  });

  it('requires a name and a command or an image', () => {
    expect(problems(withTasks('    - {args: [x]}\n'))).toEqual([
      'w.yaml:6:7: spec.tasks[0].name: missing required field "name"',
      'w.yaml:6:7: spec.tasks[0]: a task needs a command or an image',
    ]);
  });

  it('reports bad task names', () => {
    expect(problems(withTasks('    - {name: Extract_Data, command: x}\n    - {name: "", command: x}\n    - {name: 7, command: x}\n'))).toEqual([
      `w.yaml:6:14: spec.tasks[0].name: "Extract_Data" is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (try "extract-data")`,
      'w.yaml:7:14: spec.tasks[1].name: must not be empty',
      'w.yaml:8:14: spec.tasks[2].name: must be a string, got the integer 7 (quote it: "7")',
    ]);
  });

  it('reports every bad field of a task, naming each', () => {
    expect(
      problems(
        withTasks(`    - name: a
      command: []
      args: [--limit, 5, true, {a: 1}]
      image: "my image"
      retries: -1
      retryDelay: 5 minutes
      timeout: -3
      queue: GPU
      triggerRule: all_success
      description: 5
      dependsOn: a-task
      retry: 2
    - just a string
`),
      ),
    ).toEqual([
      'w.yaml:7:16: spec.tasks[0].command: must not be empty',
      'w.yaml:8:23: spec.tasks[0].args[1]: must be a string, got the integer 5 (quote it: "5")',
      'w.yaml:8:26: spec.tasks[0].args[2]: must be a string, got the boolean true (quote it: "true")',
      'w.yaml:8:32: spec.tasks[0].args[3]: must be a string, got a mapping',
      'w.yaml:9:14: spec.tasks[0].image: image "my image" must not contain whitespace',
      'w.yaml:10:16: spec.tasks[0].retries: must be between 0 and 100, got -1',
      'w.yaml:11:19: spec.tasks[0].retryDelay: invalid duration "5 minutes": use a number of seconds or a string such as "500ms", "30s", "5m", "1h30m" or "2d"',
      'w.yaml:12:16: spec.tasks[0].timeout: a duration cannot be negative, got -3',
      `w.yaml:13:14: spec.tasks[0].queue: "GPU" is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (try "gpu")`,
      'w.yaml:14:20: spec.tasks[0].triggerRule: unknown trigger rule "all_success" (did you mean "allSuccess"?); expected one of allSuccess, allDone, allFailed, oneSuccess, oneFailed, noneFailed, noneFailedMinOneSuccess, always',
      'w.yaml:15:20: spec.tasks[0].description: must be a string, got the integer 5 (quote it: "5")',
      'w.yaml:16:18: spec.tasks[0].dependsOn: must be a list, got the string "a-task" (write [a-task])',
      'w.yaml:17:7: spec.tasks[0].retry: unknown field "retry"',
      'w.yaml:18:7: spec.tasks[1]: must be a mapping, got the string "just a string"',
    ]);
  });

  it('accepts every trigger rule and duration form', () => {
    const rules = ['allSuccess', 'allDone', 'allFailed', 'oneSuccess', 'oneFailed', 'noneFailed', 'noneFailedMinOneSuccess', 'always'];
    const tasks = rules.map((r, i) => `    - {name: t${i}, command: x, triggerRule: ${r}, timeout: ${['500ms', '30s', '5m', '1h', '1h30m', '2d', '90', '0'][i]}}`).join('\n');
    const parsed = tasksOf(withTasks(`${tasks}\n`));
    expect(parsed.map((t) => t.triggerRule)).toEqual(rules);
    expect(parsed.map((t) => t.timeoutMs)).toEqual([500, 30_000, 300_000, 3_600_000, 5_400_000, 172_800_000, 90_000, 0]);
  });
});

describe('env', () => {
  it('reads the map form and the list form with secrets', () => {
    const [a, b] = tasksOf(
      withTasks(`    - {name: a, command: x, env: {A: "1", B: two}}
    - name: b
      command: x
      env:
        - {name: TOKEN, value: abc, secret: true}
        - {name: PLAIN, value: ""}
`),
    );
    expect(a?.env).toEqual([
      { name: 'A', value: '1', secret: false },
      { name: 'B', value: 'two', secret: false },
    ]);
    expect(b?.env).toEqual([
      { name: 'TOKEN', value: 'abc', secret: true },
      { name: 'PLAIN', value: '', secret: false },
    ]);
  });

  it('reports bad names, values, duplicates and reserved names', () => {
    expect(
      problems(
        withTasks(`    - name: a
      command: x
      env: {1A: x, PORT: 8080, SKEIN_TASK: y}
    - name: b
      command: x
      env:
        - {name: A, value: "1"}
        - {name: A, value: "2", secret: "yes"}
        - {value: x}
        - {name: C, valu: x}
    - {name: c, command: x, env: "A=1"}
`),
      ),
    ).toEqual([
      `w.yaml:8:13: spec.tasks[0].env["1A"]: "1A" is not a valid env var name: use letters, digits and '_', not starting with a digit`,
      'w.yaml:8:26: spec.tasks[0].env.PORT: must be a string, got the integer 8080 (quote it: "8080")',
      'w.yaml:8:32: spec.tasks[0].env.SKEIN_TASK: "SKEIN_TASK" is reserved: Skein sets SKEIN_* and TRACEPARENT itself',
      'w.yaml:13:18: spec.tasks[1].env[1].name: duplicate env var "A" (first set on line 12)',
      'w.yaml:13:41: spec.tasks[1].env[1].secret: must be true or false, got the string "yes"',
      'w.yaml:14:11: spec.tasks[1].env[2].name: missing required field "name"',
      'w.yaml:15:11: spec.tasks[1].env[3].value: missing required field "value"',
      'w.yaml:15:21: spec.tasks[1].env[3].valu: unknown field "valu" (did you mean "value"?)',
      'w.yaml:16:34: spec.tasks[2].env: must be a map of NAME: value, or a list of {name, value, secret}',
    ]);
  });
});

describe('defaults', () => {
  it('applies defaults to tasks that do not set the field', () => {
    const [a, b] = tasksOf(
      withTasks(
        `    - {name: a, command: x}
    - {name: b, command: x, retries: 0, retryDelay: 1s, timeout: 0, queue: fast, image: other, env: {B: own, C: c}}
`,
        '  defaults: {retries: 2, retryDelay: 30s, timeout: 1h, queue: slow, image: base:1, env: {A: a, B: default}}\n',
      ),
    );
    expect(a).toMatchObject({
      retries: 2,
      retryDelayMs: 30_000,
      timeoutMs: 3_600_000,
      queue: 'slow',
      image: 'base:1',
      env: [
        { name: 'A', value: 'a', secret: false },
        { name: 'B', value: 'default', secret: false },
      ],
    });
    expect(b).toMatchObject({
      retries: 0,
      retryDelayMs: 1000,
      timeoutMs: 0,
      queue: 'fast',
      image: 'other',
      env: [
        { name: 'A', value: 'a', secret: false },
        { name: 'B', value: 'own', secret: false },
        { name: 'C', value: 'c', secret: false },
      ],
    });
  });

  it('lets a default image stand in for a command', () => {
    expect(tasksOf(withTasks('    - {name: a}\n', '  defaults: {image: alpine}\n'))[0]).toMatchObject({ image: 'alpine', command: [] });
  });

  it('reports bad defaults and unknown default fields', () => {
    expect(problems(withTasks('    - {name: a, command: x}\n', '  defaults: {retries: 101, timeout: x, command: [y], queue: Q}\n'))).toEqual([
      'w.yaml:5:23: spec.defaults.retries: must be between 0 and 100, got 101',
      'w.yaml:5:37: spec.defaults.timeout: invalid duration "x": use a number of seconds or a string such as "500ms", "30s", "5m", "1h30m" or "2d"',
      'w.yaml:5:40: spec.defaults.command: unknown field "command"',
      `w.yaml:5:61: spec.defaults.queue: "Q" is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (try "q")`,
    ]);
    expect(problems(withTasks('    - {name: a, command: x}\n', '  defaults: [retries]\n'))).toEqual([
      'w.yaml:5:13: spec.defaults: must be a mapping, got a list',
    ]);
  });
});

describe('retry backoff fields', () => {
  const file = (task: string, defaults = '') => `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: w}
spec:
${defaults}  tasks:
    - ${task}
`;

  it('reads retryBackoff, maxRetryDelay and retryJitter, from the task or from defaults', () => {
    const own = parseWorkflowFile(file('{name: a, command: x, retries: 3, retryDelay: 10s, retryBackoff: exponential, maxRetryDelay: 5m, retryJitter: true}'), 'w.yaml');
    expect(own.errors).toEqual([]);
    expect(own.workflows[0]?.spec.spec.tasks[0]).toMatchObject({ retryDelayMs: 10_000, retryBackoff: 'exponential', maxRetryDelayMs: 300_000, retryJitter: true });
    const inherited = parseWorkflowFile(file('{name: a, command: x, maxRetryDelay: 1m}', '  defaults: {retryBackoff: exponential}\n'), 'w.yaml');
    expect(inherited.workflows[0]?.spec.spec.tasks[0]).toMatchObject({ retryBackoff: 'exponential', maxRetryDelayMs: 60_000 });
  });

  it('leaves a fixed policy out of the spec, so digests of existing workflows do not change', () => {
    const task = parseWorkflowFile(file('{name: a, command: x, retryBackoff: fixed, retryJitter: false}'), 'w.yaml').workflows[0]?.spec.spec.tasks[0];
    expect(task && ('retryBackoff' in task || 'retryJitter' in task || 'maxRetryDelayMs' in task)).toBe(false);
  });

  it('names a misspelt backoff with its location', () => {
    const { errors } = parseWorkflowFile(file('{name: a, command: x, retryBackoff: exponentail}'), 'w.yaml');
    expect(errors.map(formatIssue)).toEqual(['w.yaml:6:43: spec.tasks[0].retryBackoff: unknown value "exponentail" (did you mean "exponential"?); expected fixed or exponential']);
  });
});

describe('when: conditions', () => {
  const file = (tasks: string) => `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n  params: {go: {type: boolean, default: true}}\n  tasks:\n${tasks}`;

  it('keeps the condition in the spec and checks its templates like any other', () => {
    const ok = parseWorkflowFile(file('    - {name: a, command: x}\n    - {name: b, command: x, dependsOn: [a], when: "{{ tasks.a.outputs.n }} > 0"}\n'), 'w.yaml');
    expect(ok.errors).toEqual([]);
    expect(ok.workflows[0]?.spec.spec.tasks[1]?.when).toBe('{{ tasks.a.outputs.n }} > 0');
    const bad = parseWorkflowFile(file('    - {name: a, command: x}\n    - {name: b, command: x, when: "{{ tasks.a.outputs.n }} > 0"}\n    - {name: c, command: x, when: "{{ params.stop }}"}\n'), 'w.yaml');
    expect(bad.errors.map((e) => e.path)).toEqual(['spec.tasks[1].when', 'spec.tasks[2].when']);
  });
});
