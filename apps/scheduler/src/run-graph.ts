import type { TaskSpec, WorkflowSpec } from '@skein/domain';

/**
 * A workflow version's DAG, compiled once per (workflow, version) — versions are immutable, so the
 * scheduler caches it for the life of the process and the hot path never re-derives edges.
 */
export interface RunGraph {
  readonly spec: WorkflowSpec;
  readonly tasks: ReadonlyMap<string, TaskSpec>;
  /** Task names in file order. */
  readonly order: readonly string[];
  readonly upstream: ReadonlyMap<string, readonly string[]>;
  readonly downstream: ReadonlyMap<string, readonly string[]>;
  readonly roots: readonly string[];
  /** Tasks that wait for a slot before they are dispatched (a pool, or the workflow's maxActiveTasks). */
  readonly limited: ReadonlySet<string>;
  /** Whether tasks ready together include different priorities (then they are dispatched highest first). */
  readonly prioritised: boolean;
  /** Whether some task has its own queuedTimeout. */
  readonly queuedTimeouts: boolean;
}

export function compileRunGraph(spec: WorkflowSpec): RunGraph {
  const tasks = new Map<string, TaskSpec>();
  const upstream = new Map<string, readonly string[]>();
  const downstream = new Map<string, string[]>();
  for (const task of spec.spec.tasks) {
    tasks.set(task.name, task);
    upstream.set(task.name, task.dependsOn);
    downstream.set(task.name, []);
  }
  for (const task of spec.spec.tasks) {
    for (const up of task.dependsOn) downstream.get(up)?.push(task.name);
  }
  return {
    spec,
    tasks,
    order: spec.spec.tasks.map((t) => t.name),
    upstream,
    downstream,
    roots: spec.spec.tasks.filter((t) => t.dependsOn.length === 0).map((t) => t.name),
    limited: new Set(spec.spec.tasks.filter((t) => t.pool !== undefined || spec.spec.maxActiveTasks !== undefined).map((t) => t.name)),
    prioritised: spec.spec.tasks.some((t) => (t.priority ?? 0) !== 0),
    queuedTimeouts: spec.spec.tasks.some((t) => t.queuedTimeoutMs !== undefined),
  };
}

/** Caches compiled graphs by workflow version; `load` is called once per version. */
export class RunGraphCache {
  private readonly graphs = new Map<string, Promise<RunGraph>>();

  constructor(private readonly load: (workflowId: string, version: number) => Promise<WorkflowSpec>) {}

  get(workflowId: string, version: number): Promise<RunGraph> {
    const key = `${workflowId}\u0000${version}`;
    let graph = this.graphs.get(key);
    if (!graph) {
      graph = this.load(workflowId, version).then(compileRunGraph);
      graph.catch(() => this.graphs.delete(key));
      this.graphs.set(key, graph);
    }
    return graph;
  }
}
