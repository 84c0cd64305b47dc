import { formatIssue } from './issues';
import { parseWorkflowFile } from './parse-workflow';
import { MAX_UNKNOWN_TASK_SUGGESTIONS } from './validate-graph';

/** A workflow whose `tasks:` items start on line 6 (after `extra` lines). */
const withTasks = (tasks: string, extra = '') => `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n${extra}  tasks:\n${tasks}`;
const problems = (source: string) => parseWorkflowFile(source, 'file.yaml').errors.map(formatIssue);

describe('dependsOn', () => {
  it('reports an unknown task with a suggestion, at the entry', () => {
    expect(
      problems(
        withTasks(`    - {name: extract, command: x}
    - {name: transform, command: x}
    - {name: load, command: x, dependsOn: [transform, extrct, zzz]}
`),
      ),
    ).toEqual([
      'file.yaml:8:55: spec.tasks[2].dependsOn[1]: unknown task "extrct" (did you mean "extract"?)',
      'file.yaml:8:63: spec.tasks[2].dependsOn[2]: unknown task "zzz"',
    ]);
  });

  it('suggests for the first unknown task names of a file only, so thousands of them validate quickly', () => {
    const tasks = Array.from({ length: MAX_UNKNOWN_TASK_SUGGESTIONS + 1 }, (_, i) =>
      `    - {name: task-${i}, command: x, dependsOn: [task-${i}x], args: ["{{ tasks.task-${i}y.outputs.n }}"]}\n`).join('');
    const found = problems(withTasks(tasks));
    const suggested = found.filter((p) => p.includes('did you mean'));
    // The budget is shared by dependsOn and templates.
    expect(suggested).toHaveLength(MAX_UNKNOWN_TASK_SUGGESTIONS);
    expect(found.filter((p) => p.includes('unknown task'))).toHaveLength(2 * (MAX_UNKNOWN_TASK_SUGGESTIONS + 1));
  });

  it('reports a self-dependency and duplicates', () => {
    expect(problems(withTasks('    - {name: a, command: x}\n    - {name: b, command: x, dependsOn: [b, a, a]}\n'))).toEqual([
      'file.yaml:7:41: spec.tasks[1].dependsOn[0]: task "b" cannot depend on itself',
      'file.yaml:7:47: spec.tasks[1].dependsOn[2]: duplicate dependency "a"',
    ]);
  });

  it('does not report a dependency on a task whose own definition is invalid', () => {
    expect(problems(withTasks('    - {name: a, retries: -1, command: x}\n    - {name: b, command: x, dependsOn: [a]}\n'))).toEqual([
      'file.yaml:6:26: spec.tasks[0].retries: must be between 0 and 100, got -1',
    ]);
  });
});

describe('cycles', () => {
  it('reports a cycle once, naming it, at the first task’s entry that closes it', () => {
    expect(
      problems(
        withTasks(`    - {name: start, command: x}
    - {name: a, command: x, dependsOn: [start, c]}
    - {name: b, command: x, dependsOn: [a]}
    - {name: c, command: x, dependsOn: [b]}
    - {name: end, command: x, dependsOn: [c]}
`),
      ),
    ).toEqual(['file.yaml:7:48: spec.tasks[1].dependsOn[1]: cycle: a -> b -> c -> a']);
  });

  it('reports each separate cycle', () => {
    expect(
      problems(
        withTasks(`    - {name: a, command: x, dependsOn: [b]}
    - {name: b, command: x, dependsOn: [a]}
    - {name: c, command: x, dependsOn: [d]}
    - {name: d, command: x, dependsOn: [c]}
`),
      ),
    ).toEqual(['file.yaml:6:41: spec.tasks[0].dependsOn[0]: cycle: a -> b -> a', 'file.yaml:8:41: spec.tasks[2].dependsOn[0]: cycle: c -> d -> c']);
  });
});

describe('templates', () => {
  const params = '  params: {season: {type: string, default: "2026"}, limit: {type: integer}}\n';

  it('accepts params, run fields and outputs of transitive upstream tasks everywhere templates go', () => {
    const source = withTasks(
      `    - {name: extract, command: x}
    - {name: transform, command: x, dependsOn: [extract]}
    - name: load
      dependsOn: [transform]
      image: "repo/load:{{ params.season }}"
      command: ["load-{{ run.workflow }}"]
      args: ["{{ tasks.extract.outputs.path }}", "{{ tasks.transform.outputs.rows }}", "{{ run.id }}", "{{ params.limit }}"]
      env: {DATE: "{{ run.logicalDate }}"}
`,
      params,
    );
    expect(problems(source)).toEqual([]);
  });

  it('reports each bad reference at the string that holds it', () => {
    const source = withTasks(
      `    - {name: extract, command: x}
    - {name: audit, command: x}
    - name: load
      dependsOn: [extract]
      image: "repo/load:{{ params.seasn }}"
      command: ["{{ tasks.audit.outputs.ok }}"]
      args: ["{{ tasks.extrct.outputs.path }}", "{{ tasks.load.outputs.x }}", "{{ run.date }}", "{{ params.season"]
      env: [{name: A, value: "{{ env.HOME }}"}]
`,
      params,
    );
    expect(problems(source)).toEqual([
      'file.yaml:11:14: spec.tasks[2].image: {{ params.seasn }} refers to undeclared param "seasn" (did you mean "season"?)',
      'file.yaml:12:17: spec.tasks[2].command[0]: {{ tasks.audit.outputs.ok }}: task "audit" is not upstream of "load", so its outputs may not exist yet (add it to dependsOn)',
      'file.yaml:13:14: spec.tasks[2].args[0]: {{ tasks.extrct.outputs.path }} refers to unknown task "extrct" (did you mean "extract"?)',
      'file.yaml:13:49: spec.tasks[2].args[1]: {{ tasks.load.outputs.x }}: a task cannot read its own outputs',
      'file.yaml:13:79: spec.tasks[2].args[2]: unknown run field in "run.date": expected run.id, run.logicalDate, run.workflow, run.dataInterval.start or run.dataInterval.end',
      'file.yaml:13:97: spec.tasks[2].args[3]: unterminated "{{" in "{{ params.season" (write {{ "{{" }} for a literal "{{")',
      'file.yaml:14:30: spec.tasks[2].env[0].value: unknown template expression "env.HOME": expected params.NAME, run.id, run.logicalDate, run.workflow, run.dataInterval.start, run.dataInterval.end or tasks.TASK.outputs.KEY',
    ]);
  });

  it('checks templates from defaults against each task, reporting at the default', () => {
    const source = withTasks(
      `    - {name: a, command: x}
    - {name: b, command: x, dependsOn: [a]}
`,
      '  defaults: {env: {FROM_A: "{{ tasks.a.outputs.v }}", BAD: "{{ nope }}"}}\n',
    );
    expect(problems(source)).toEqual([
      'file.yaml:5:28: spec.defaults.env.FROM_A: {{ tasks.a.outputs.v }}: a task cannot read its own outputs',
      'file.yaml:5:60: spec.defaults.env.BAD: unknown template expression "nope": expected params.NAME, run.id, run.logicalDate, run.workflow, run.dataInterval.start, run.dataInterval.end or tasks.TASK.outputs.KEY',
    ]);
  });

  it('leaves a task’s own env var, overriding a default, unchecked by the default', () => {
    const source = withTasks('    - {name: a, command: x, env: {X: ok}}\n', '  defaults: {env: {X: "{{ nope }}"}}\n');
    expect(problems(source)).toEqual([]);
  });
});
