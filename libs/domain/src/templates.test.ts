import { TemplateError } from './errors';
import { referencedTasks, renderTaskTemplates, renderTemplate, type TemplateContext } from './templates';
import type { TaskSpec } from './workflow';

const ctx: TemplateContext = {
  params: { season: '2026', limit: 10, dry: false },
  run: { id: '01jg0000000000000000000000', logicalDate: new Date('2026-01-01T06:00:00Z'), workflow: 'sports-etl' },
  outputs: {
    extract: { path: 's3://bucket/2026.csv', rows: 1200, meta: { a: 1 }, list: [1, 2], none: null },
    empty: {},
  },
};

const task: TaskSpec = {
  name: 'load',
  image: 'registry.example.com/load:{{ params.season }}',
  command: ['load', '--run={{ run.id }}'],
  args: ['--input', '{{ tasks.extract.outputs.path }}', '--rows={{ tasks.extract.outputs.rows }}'],
  env: [
    { name: 'WORKFLOW', value: '{{ run.workflow }}', secret: false },
    { name: 'TOKEN', value: 'plain', secret: true },
  ],
  dependsOn: ['extract'],
  retries: 0,
  retryDelayMs: 10_000,
  timeoutMs: 0,
  queue: 'default',
  triggerRule: 'allSuccess',
};

describe('renderTemplate', () => {
  it('renders every kind of value', () => {
    expect(renderTemplate('{{ params.season }}/{{ params.limit }}/{{ params.dry }}', ctx)).toBe('2026/10/false');
    expect(renderTemplate('{{ run.logicalDate }}', ctx)).toBe('2026-01-01T06:00:00.000Z');
    expect(renderTemplate('{{ tasks.extract.outputs.meta }} {{ tasks.extract.outputs.list }}', ctx)).toBe('{"a":1} [1,2]');
    expect(renderTemplate('{{ tasks.extract.outputs.none }}', ctx)).toBe('null');
    expect(renderTemplate(`docker inspect -f '{{ "{{" }}.State}}'`, ctx)).toBe(`docker inspect -f '{{.State}}'`);
    expect(renderTemplate('no templates }}', ctx)).toBe('no templates }}');
  });

  it('throws TemplateError for a missing output key, naming the keys that exist', () => {
    expect(() => renderTemplate('{{ tasks.extract.outputs.size }}', ctx)).toThrow(
      new TemplateError('{{ tasks.extract.outputs.size }}: task "extract" has no output "size" (it wrote "path", "rows", "meta", "list", "none")', ''),
    );
    expect(() => renderTemplate('{{ tasks.empty.outputs.x }}', ctx)).toThrow('task "empty" has no output "x" (it wrote none)');
  });

  it('throws TemplateError for a task without outputs and a param without a value', () => {
    expect(() => renderTemplate('{{ tasks.other.outputs.x }}', ctx)).toThrow('task "other" has no outputs');
    expect(() => renderTemplate('{{ params.region }}', ctx)).toThrow('param "region" has no value');
    expect(() => renderTemplate('{{ tasks.extract.outputs.toString }}', ctx)).toThrow(TemplateError);
  });

  it('throws TemplateError for invalid syntax, carrying the template', () => {
    try {
      renderTemplate('{{ bad }}', ctx);
      throw new Error('unreachable');
    } catch (err) {
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).template).toBe('{{ bad }}');
      expect((err as TemplateError).code).toBe('TEMPLATE_RENDER_FAILED');
    }
  });
});

describe('renderTaskTemplates', () => {
  it('renders image, command, args and env values and leaves the rest', () => {
    const rendered = renderTaskTemplates(task, ctx);
    expect(rendered).toEqual({
      ...task,
      image: 'registry.example.com/load:2026',
      command: ['load', '--run=01jg0000000000000000000000'],
      args: ['--input', 's3://bucket/2026.csv', '--rows=1200'],
      env: [
        { name: 'WORKFLOW', value: 'sports-etl', secret: false },
        { name: 'TOKEN', value: 'plain', secret: true },
      ],
    });
    expect(task.args[1]).toBe('{{ tasks.extract.outputs.path }}');
  });

  it('keeps an absent image absent', () => {
    const { image: _image, ...noImage } = task;
    expect('image' in renderTaskTemplates(noImage, ctx)).toBe(false);
  });
});

describe('referencedTasks', () => {
  it('lists the tasks whose outputs are read, once each, in order of use', () => {
    expect(
      referencedTasks({
        image: '{{ tasks.b.outputs.tag }}',
        command: ['x'],
        args: ['{{ tasks.a.outputs.x }}', '{{ tasks.b.outputs.y }}{{ bad'],
        env: [{ name: 'E', value: '{{ tasks.c.outputs.z }}', secret: false }],
      }),
    ).toEqual(['b', 'a', 'c']);
  });
  it('is empty without outputs', () => {
    expect(referencedTasks(task).length).toBe(1);
    expect(referencedTasks({ command: ['true'], args: [], env: [] })).toEqual([]);
  });
});
