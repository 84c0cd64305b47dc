import { parseWorkflowFile } from './parse-workflow';
import { renderTaskTemplates } from './templates';
import type { PoolSpec } from './pool';

const pool = (name: string, slots: number | string) => `apiVersion: skein.dev/v1\nkind: Pool\nmetadata: {name: ${name}}\nspec: {slots: ${slots}}\n`;
const workflow = (tasks: string, extra = '') => `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: w}\nspec:\n${extra}  tasks:\n${tasks}`;
const stored = (name: string, slots: number): PoolSpec => ({ apiVersion: 'skein.dev/v1', kind: 'Pool', metadata: { name, labels: {} }, spec: { slots } });

describe('Pool documents', () => {
  it('parses a pool next to workflows', () => {
    const result = parseWorkflowFile(`${pool('warehouse', 4)}---\n${workflow('    - {name: a, command: ["true"], pool: warehouse, poolSlots: 2, priority: 7}\n')}`, 'p.yaml', { pools: () => undefined });
    expect(result.errors).toEqual([]);
    expect(result.pools.map((p) => p.spec)).toEqual([stored('warehouse', 4)]);
    expect(result.workflows[0]?.spec.spec.tasks[0]).toMatchObject({ pool: 'warehouse', poolSlots: 2, priority: 7 });
  });

  it('reports bad slots, a missing spec and a pool defined twice, with positions', () => {
    const result = parseWorkflowFile(`${pool('a', -1)}---\n${pool('b', '"many"')}---\napiVersion: skein.dev/v1\nkind: Pool\nmetadata: {name: c}\n---\n${pool('d', 1)}---\n${pool('d', 2)}`, 'p.yaml');
    expect(result.errors.map((e) => [e.line, e.path, e.message])).toEqual([
      [4, 'spec.slots', 'must be between 0 and 100000, got -1'],
      [9, 'spec.slots', 'must be an integer, got the string "many"'],
      [11, 'spec', 'missing required field "spec"'],
      [22, 'metadata.name', 'pool "d" is defined twice in this file (also in document 4)'],
    ].map(([line, path, message]) => [line, path, expect.stringContaining(message as string)]));
  });
});

describe('Workflow concurrency fields', () => {
  it('checks pools against the file and the server when pools are given, naming the field', () => {
    const result = parseWorkflowFile(workflow(`    - {name: a, command: ["true"], pool: warehuose}
    - {name: b, command: ["true"], pool: warehouse, poolSlots: 9}
    - {name: c, command: ["true"], pool: small}
`), 'w.yaml', { pools: (name) => (name === 'warehouse' ? stored('warehouse', 4) : name === 'small' ? stored('small', 1) : undefined), poolNames: () => ['small', 'warehouse'] });
    expect(result.errors.map((e) => [e.path, e.message])).toEqual([
      ['spec.tasks[0].pool', 'unknown pool "warehuose" (did you mean "warehouse"?); pools: small, warehouse'],
      ['spec.tasks[1].poolSlots', 'takes 9 slots but pool "warehouse" has only 4: the task could never run'],
    ]);
  });

  it('does not check pool names when no pools are given (offline validation)', () => {
    expect(parseWorkflowFile(workflow('    - {name: a, command: ["true"], pool: anything}\n'), 'w.yaml').errors).toEqual([]);
  });

  it('applies pool and priority from defaults, validates ranges and poolSlots without a pool', () => {
    const ok = parseWorkflowFile(workflow('    - {name: a, command: ["true"]}\n    - {name: b, command: ["true"], priority: -3}\n', '  maxActiveTasks: 4\n  defaults: {pool: p, priority: 2}\n'), 'w.yaml');
    expect(ok.errors).toEqual([]);
    expect(ok.workflows[0]?.spec.spec.maxActiveTasks).toBe(4);
    expect(ok.workflows[0]?.spec.spec.tasks.map((t) => [t.pool, t.poolSlots, t.priority])).toEqual([['p', 1, 2], ['p', 1, -3]]);
    const bad = parseWorkflowFile(workflow('    - {name: a, command: ["true"], poolSlots: 2, priority: 2000000}\n', '  maxActiveTasks: 0\n'), 'w.yaml');
    expect(bad.errors.map((e) => [e.path, e.message])).toEqual([
      ['spec.maxActiveTasks', 'must be at least 1, got 0'],
      ['spec.tasks[0].poolSlots', 'poolSlots needs a pool: name one with `pool:` (here or in spec.defaults)'],
      ['spec.tasks[0].priority', 'must be between -1000000 and 1000000, got 2000000'],
    ]);
  });

  it('leaves the spec of a task without limits unchanged (no pool, priority or queuedTimeout keys)', () => {
    const task = parseWorkflowFile(workflow('    - {name: a, command: ["true"]}\n'), 'w.yaml').workflows[0]?.spec.spec.tasks[0];
    expect(Object.keys(task ?? {})).not.toEqual(expect.arrayContaining(['pool']));
    expect(task).not.toHaveProperty('priority');
    expect(task).not.toHaveProperty('queuedTimeoutMs');
  });

  it('reads queuedTimeout per task and from defaults', () => {
    const result = parseWorkflowFile(workflow('    - {name: a, command: ["true"], queuedTimeout: 30s}\n    - {name: b, command: ["true"]}\n', '  defaults: {queuedTimeout: 5m}\n'), 'w.yaml');
    expect(result.errors).toEqual([]);
    expect(result.workflows[0]?.spec.spec.tasks.map((t) => t.queuedTimeoutMs)).toEqual([30_000, 300_000]);
  });
});

describe('object params in workflow files and templates', () => {
  it('declares an object param with a mapping default, and renders params.NAME and params.NAME.KEY', () => {
    const result = parseWorkflowFile(workflow('    - {name: a, command: ["echo", "{{ params.filters.region }}", "{{ params.filters }}"]}\n',
      '  params:\n    filters:\n      type: object\n      default: {region: eu, limit: 10}\n'), 'w.yaml');
    expect(result.errors).toEqual([]);
    const task = result.workflows[0]?.spec.spec.tasks[0];
    const ctx = { params: { filters: { region: 'eu', limit: 10 } }, run: { id: 'r', logicalDate: new Date(0), workflow: 'w' }, outputs: {} };
    expect(task && renderTaskTemplates(task, ctx).command).toEqual(['echo', 'eu', '{"limit":10,"region":"eu"}']);
    expect(() => task && renderTaskTemplates({ ...task, command: ['{{ params.filters.zone }}'] }, ctx)).toThrow('params.filters has no key "zone"');
  });

  it('rejects a scalar default for an object param and a mapping default for a string param', () => {
    const result = parseWorkflowFile(workflow('    - {name: a, command: ["true"]}\n',
      '  params:\n    f: {type: object, default: 3}\n    s: {type: string, default: {a: 1}}\n'), 'w.yaml');
    expect(result.errors.map((e) => [e.path, e.message])).toEqual([
      ['spec.params.f.default', 'must be a JSON object, got the integer 3'],
      ['spec.params.s.default', 'must be a string, got a mapping'],
    ]);
  });
});
