import { hasTemplate, parseTemplate, templateProblems, type TemplateScope } from './template-syntax';

describe('parseTemplate', () => {
  it('returns plain text as one part', () => {
    expect(parseTemplate('hello')).toEqual({ parts: [{ kind: 'text', text: 'hello' }], problems: [] });
    expect(parseTemplate('')).toEqual({ parts: [], problems: [] });
  });

  it('parses every expression form, with or without spaces', () => {
    const { parts, problems } = parseTemplate('{{params.season}}-{{ run.id }}/{{ run.logicalDate }}@{{ run.workflow }}:{{  tasks.extract.outputs.path  }}{{ "{{" }}');
    expect(problems).toEqual([]);
    expect(parts).toEqual([
      { kind: 'expression', expression: { kind: 'param', name: 'season' }, source: '{{params.season}}' },
      { kind: 'text', text: '-' },
      { kind: 'expression', expression: { kind: 'run', field: 'id' }, source: '{{ run.id }}' },
      { kind: 'text', text: '/' },
      { kind: 'expression', expression: { kind: 'run', field: 'logicalDate' }, source: '{{ run.logicalDate }}' },
      { kind: 'text', text: '@' },
      { kind: 'expression', expression: { kind: 'run', field: 'workflow' }, source: '{{ run.workflow }}' },
      { kind: 'text', text: ':' },
      { kind: 'expression', expression: { kind: 'output', task: 'extract', key: 'path' }, source: '{{  tasks.extract.outputs.path  }}' },
      { kind: 'expression', expression: { kind: 'literal', text: '{{' }, source: '{{ "{{" }}' },
    ]);
  });

  it('leaves a lone "}}" as text', () => {
    expect(parseTemplate('a }} b').parts).toEqual([{ kind: 'text', text: 'a }} b' }]);
  });

  it.each([
    ['{{ params.season', 'unterminated "{{" in "{{ params.season" (write {{ "{{" }} for a literal "{{")'],
    ['{{ }}', 'empty template expression "{{ }}"'],
    ['{{ params }}', 'invalid template expression "params": expected params.NAME'],
    ['{{ params.a-b }}', 'invalid template expression "params.a-b": expected params.NAME'],
    ['{{ run.logical_date }}', 'unknown run field in "run.logical_date" (did you mean "logicalDate"?): expected run.id, run.logicalDate, run.workflow, run.dataInterval.start or run.dataInterval.end'],
    ['{{ tasks.extract.output.path }}', 'invalid template expression "tasks.extract.output.path": expected tasks.TASK.outputs.KEY'],
    ['{{ tasks.Extract.outputs.path }}', 'expected tasks.TASK.outputs.KEY'],
    ['{{ param.season }}', 'unknown template expression "param.season" (did you mean "params.season"?): expected params.NAME, run.id, run.logicalDate, run.workflow, run.dataInterval.start, run.dataInterval.end or tasks.TASK.outputs.KEY'],
    ['{{ .State.Running }}', 'unknown template expression ".State.Running": expected'],
    ['{{ env.HOME }}', 'unknown template expression "env.HOME": expected'],
  ])('reports %j', (text, problem) => {
    const { problems } = parseTemplate(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('collects every problem in one string', () => {
    expect(parseTemplate('{{ a }} {{ b }} {{ params.ok }}').problems).toHaveLength(2);
  });

  it('hasTemplate detects "{{"', () => {
    expect(hasTemplate('a {{ b')).toBe(true);
    expect(hasTemplate('awk {print}')).toBe(false);
  });
});

describe('templateProblems', () => {
  const scope: TemplateScope = {
    params: ['season', 'region'],
    task: 'load',
    tasks: ['extract', 'transform', 'load', 'audit'],
    upstream: new Set(['extract', 'transform']),
  };

  it('accepts declared params, run fields and upstream outputs', () => {
    expect(templateProblems('{{ params.season }} {{ run.id }} {{ tasks.extract.outputs.path }}', scope)).toEqual([]);
    expect(templateProblems('no templates', scope)).toEqual([]);
  });

  it('reports an undeclared param with a suggestion', () => {
    expect(templateProblems('{{ params.seasn }}', scope)).toEqual([
      '{{ params.seasn }} refers to undeclared param "seasn" (did you mean "season"?)',
    ]);
  });

  it('reports an unknown task with a suggestion', () => {
    expect(templateProblems('{{ tasks.extrct.outputs.path }}', scope)).toEqual([
      '{{ tasks.extrct.outputs.path }} refers to unknown task "extrct" (did you mean "extract"?)',
    ]);
  });

  it('reports a task that is not upstream', () => {
    expect(templateProblems('{{ tasks.audit.outputs.n }}', scope)).toEqual([
      '{{ tasks.audit.outputs.n }}: task "audit" is not upstream of "load", so its outputs may not exist yet (add it to dependsOn)',
    ]);
  });

  it('reports reading its own outputs', () => {
    expect(templateProblems('{{ tasks.load.outputs.n }}', scope)).toEqual(['{{ tasks.load.outputs.n }}: a task cannot read its own outputs']);
  });

  it('reports syntax and reference problems together', () => {
    expect(templateProblems('{{ nope }} {{ params.x }}', scope)).toHaveLength(2);
  });
});
