/**
 * Graph algorithms over a workflow's tasks. They take any `{ name, dependsOn }` list, so the
 * validator can run them on tasks that are not yet fully valid: a dependsOn name that matches no
 * task is ignored here (the validator reports it), as is a task depending on itself.
 */
import { WorkflowCycleError } from './errors';

/** What the DAG algorithms need of a task. */
export interface DagTask {
  readonly name: string;
  readonly dependsOn: readonly string[];
}

/** Upstream names of each task, restricted to known tasks, without self-edges or repeats. */
function upstreamMap(tasks: readonly DagTask[]): Map<string, string[]> {
  const names = new Set(tasks.map((t) => t.name));
  const upstream = new Map<string, string[]>();
  for (const task of tasks) {
    if (upstream.has(task.name)) continue;
    const deps = [...new Set(task.dependsOn)].filter((d) => d !== task.name && names.has(d));
    upstream.set(task.name, deps);
  }
  return upstream;
}

/** Each task's direct downstream tasks (those that depend on it), in file order. Every task is a key. */
export function downstreamOf(tasks: readonly DagTask[]): Map<string, string[]> {
  const downstream = new Map<string, string[]>(tasks.map((t) => [t.name, []]));
  for (const [name, deps] of upstreamMap(tasks)) {
    for (const dep of deps) downstream.get(dep)?.push(name);
  }
  return downstream;
}

/** Tasks with no upstream: the ones a new run starts with, in file order. */
export function rootTasks(tasks: readonly DagTask[]): string[] {
  return [...upstreamMap(tasks)].filter(([, deps]) => deps.length === 0).map(([name]) => name);
}

/** Every task `name` depends on, directly or transitively (not `name` itself unless in a cycle). */
export function upstreamClosure(tasks: readonly DagTask[], name: string): Set<string> {
  return closureIn(upstreamMap(tasks), name);
}

/**
 * {@link upstreamClosure} of every task at once, sharing one index: for checks that need the
 * closure of each task of a large workflow.
 */
export function upstreamClosures(tasks: readonly DagTask[]): Map<string, Set<string>> {
  const upstream = upstreamMap(tasks);
  return new Map([...upstream.keys()].map((name) => [name, closureIn(upstream, name)]));
}

function closureIn(upstream: ReadonlyMap<string, readonly string[]>, name: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(upstream.get(name) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(upstream.get(next) ?? []));
  }
  return seen;
}

/**
 * The cycles in the graph, one per strongly connected component, each as task names in dependency
 * order starting from the component's first task in file order: `['a', 'b', 'c']` means b depends
 * on a, c on b and a on c (a -> b -> c -> a). Each is a shortest cycle through that first task.
 * Self-dependencies are not reported here.
 */
export function findCycles(tasks: readonly DagTask[]): string[][] {
  const upstream = upstreamMap(tasks);
  const downstream = downstreamOf(tasks);
  const order = [...upstream.keys()];
  const components = stronglyConnectedComponents(order, downstream);
  const position = new Map(order.map((name, i) => [name, i]));
  const cycles: string[][] = [];
  for (const component of components) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const start = component.reduce((a, b) => ((position.get(a) ?? 0) <= (position.get(b) ?? 0) ? a : b));
    cycles.push(shortestCycleFrom(start, members, downstream));
  }
  return cycles.sort((a, b) => (position.get(a[0] ?? '') ?? 0) - (position.get(b[0] ?? '') ?? 0));
}

/** Breadth-first search along downstream edges inside one component, back to `start`. */
function shortestCycleFrom(start: string, members: ReadonlySet<string>, downstream: Map<string, string[]>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as string;
    for (const next of downstream.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(parent.get(path[0] as string) as string);
        return path;
      }
      if (!parent.has(next)) {
        parent.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start];
}

/** Tarjan's algorithm, iterative so that a long chain of tasks cannot overflow the stack. */
function stronglyConnectedComponents(order: readonly string[], edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of order) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; next: number };
      const successors = edges.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const next = successors[frame.next++] as string;
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          work.push({ node: next, next: 0 });
        } else if (onStack.has(next)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(next) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/**
 * The task names in an order where every task comes after all its upstream tasks; among tasks
 * that are ready together, file order is kept.
 *
 * @throws WorkflowCycleError if the tasks contain a cycle.
 */
export function topologicalOrder(tasks: readonly DagTask[]): string[] {
  const upstream = upstreamMap(tasks);
  const downstream = downstreamOf(tasks);
  const position = new Map([...upstream.keys()].map((name, i) => [name, i]));
  const waiting = new Map([...upstream].map(([name, deps]) => [name, deps.length]));
  // Ready tasks kept sorted by file position; a binary heap would be faster but n ≤ 1000.
  const ready = [...upstream.keys()].filter((name) => waiting.get(name) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    const name = ready.shift() as string;
    order.push(name);
    for (const next of downstream.get(name) ?? []) {
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) {
        const at = ready.findIndex((r) => (position.get(r) ?? 0) > (position.get(next) ?? 0));
        ready.splice(at === -1 ? ready.length : at, 0, next);
      }
    }
  }
  if (order.length < upstream.size) throw new WorkflowCycleError(findCycles(tasks));
  return order;
}
