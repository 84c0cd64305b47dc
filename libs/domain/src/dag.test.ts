import { downstreamOf, findCycles, rootTasks, topologicalOrder, upstreamClosure, upstreamClosures, type DagTask } from './dag';
import { WorkflowCycleError } from './errors';

const t = (name: string, ...dependsOn: string[]): DagTask => ({ name, dependsOn });

// extract → transform → load, extract → audit, and report after load and audit.
const etl = [t('extract'), t('transform', 'extract'), t('load', 'transform'), t('audit', 'extract'), t('report', 'load', 'audit')];

describe('downstreamOf', () => {
  it('maps every task to its direct downstream tasks in file order', () => {
    expect(Object.fromEntries(downstreamOf(etl))).toEqual({
      extract: ['transform', 'audit'],
      transform: ['load'],
      load: ['report'],
      audit: ['report'],
      report: [],
    });
  });
  it('ignores unknown, self and repeated dependencies', () => {
    expect(Object.fromEntries(downstreamOf([t('a', 'a', 'zzz'), t('b', 'a', 'a')]))).toEqual({ a: ['b'], b: [] });
  });
});

describe('rootTasks', () => {
  it('lists tasks without upstream', () => {
    expect(rootTasks(etl)).toEqual(['extract']);
    expect(rootTasks([t('a'), t('b'), t('c', 'a')])).toEqual(['a', 'b']);
  });
  it('treats a task whose only upstream is unknown as a root', () => {
    expect(rootTasks([t('a', 'missing')])).toEqual(['a']);
  });
});

describe('upstreamClosure', () => {
  it('collects transitive upstream tasks', () => {
    expect([...upstreamClosure(etl, 'report')].sort()).toEqual(['audit', 'extract', 'load', 'transform']);
    expect([...upstreamClosure(etl, 'transform')]).toEqual(['extract']);
    expect(upstreamClosure(etl, 'extract').size).toBe(0);
  });
  it('terminates on cycles and on unknown names', () => {
    expect([...upstreamClosure([t('a', 'b'), t('b', 'a')], 'a')].sort()).toEqual(['a', 'b']);
    expect(upstreamClosure(etl, 'nope').size).toBe(0);
  });
});

describe('topologicalOrder', () => {
  it('puts every task after its upstream, keeping file order among ready tasks', () => {
    expect(topologicalOrder(etl)).toEqual(['extract', 'transform', 'load', 'audit', 'report']);
  });
  it('keeps file order for independent tasks', () => {
    expect(topologicalOrder([t('c'), t('a'), t('b')])).toEqual(['c', 'a', 'b']);
  });
  it('orders tasks declared before their upstream', () => {
    expect(topologicalOrder([t('z', 'y'), t('y', 'x'), t('x')])).toEqual(['x', 'y', 'z']);
  });
  it('handles an empty list and a wide fan-out', () => {
    expect(topologicalOrder([])).toEqual([]);
    const fan = [t('start'), ...Array.from({ length: 1000 }, (_, i) => t(`m${i}`, 'start')), t('end', ...Array.from({ length: 1000 }, (_, i) => `m${i}`))];
    const order = topologicalOrder(fan);
    expect(order[0]).toBe('start');
    expect(order[order.length - 1]).toBe('end');
    expect(order).toHaveLength(1002);
  });
  it('throws WorkflowCycleError naming the cycle', () => {
    expect(() => topologicalOrder([t('a', 'c'), t('b', 'a'), t('c', 'b')])).toThrow(new WorkflowCycleError([['a', 'b', 'c']]));
  });
});

describe('findCycles', () => {
  it('finds none in a DAG', () => {
    expect(findCycles(etl)).toEqual([]);
  });
  it('names a cycle from its first task in file order, in dependency direction', () => {
    // b depends on a, c on b, a on c: a -> b -> c -> a
    expect(findCycles([t('x'), t('a', 'c', 'x'), t('b', 'a'), t('c', 'b')])).toEqual([['a', 'b', 'c']]);
  });
  it('reports a two-task cycle', () => {
    expect(findCycles([t('a', 'b'), t('b', 'a')])).toEqual([['a', 'b']]);
  });
  it('reports each separate cycle once, in file order', () => {
    const tasks = [t('p', 'q'), t('q', 'p'), t('a', 'c'), t('b', 'a'), t('c', 'b'), t('d', 'c')];
    expect(findCycles(tasks)).toEqual([
      ['p', 'q'],
      ['a', 'b', 'c'],
    ]);
  });
  it('reports one shortest cycle for tangled cycles in one component', () => {
    // a <-> b and b -> c -> a: one component.
    expect(findCycles([t('a', 'b', 'c'), t('b', 'a'), t('c', 'b')])).toEqual([['a', 'b']]);
  });
  it('ignores self-dependencies', () => {
    expect(findCycles([t('a', 'a')])).toEqual([]);
  });
  it('does not overflow the stack on a long chain', () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => t(`t${i}`, ...(i === 0 ? ['t19999'] : [`t${i - 1}`])));
    const cycles = findCycles(chain);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(20_000);
    expect(cycles[0]?.[0]).toBe('t0');
  });
});

describe('upstreamClosures', () => {
  it('gives every task its upstream closure', () => {
    const all = upstreamClosures(etl);
    expect([...all.keys()]).toEqual(['extract', 'transform', 'load', 'audit', 'report']);
    for (const task of etl) expect(all.get(task.name)).toEqual(upstreamClosure(etl, task.name));
  });
});
