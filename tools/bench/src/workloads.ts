/** The benchmark workloads as workflow files (JSON is YAML): no-op tasks, so only Skein is measured. */

export interface Workload {
  readonly name: string;
  readonly workflow: string;
  readonly tasks: number;
  /** For each task, the upstream whose end starts it (hop = its start − that end). */
  readonly source: string;
}

function workflowJson(name: string, tasks: { name: string; dependsOn?: string[] }[], command = ['true']): string {
  return JSON.stringify({
    apiVersion: 'skein.dev/v1', kind: 'Workflow', metadata: { name },
    spec: { tasks: tasks.map((t) => ({ name: t.name, command, ...(t.dependsOn ? { dependsOn: t.dependsOn } : {}) })) },
  });
}

const pad = (i: number) => String(i).padStart(5, '0');

/** t00000 → t00001 → ... : every task but the first is one hop. */
export function chainWorkload(tasks: number, command?: string[]): Workload {
  const list = Array.from({ length: tasks }, (_, i) => ({ name: `t${pad(i)}`, dependsOn: i === 0 ? undefined : [`t${pad(i - 1)}`] }));
  return { name: `bench-chain-${tasks}`, workflow: workflowJson(`bench-chain-${tasks}`, list, command), tasks, source: 'chain' };
}

/** src → w00000..w{N-1} → sink. */
export function fanoutWorkload(width: number): Workload {
  const workers = Array.from({ length: width }, (_, i) => ({ name: `w${pad(i)}`, dependsOn: ['src'] }));
  const list = [{ name: 'src' }, ...workers, { name: 'sink', dependsOn: workers.map((w) => w.name) }];
  return { name: `bench-fanout-${width}`, workflow: workflowJson(`bench-fanout-${width}`, list), tasks: width + 2, source: 'fanout' };
}

/** n tasks without dependencies (W1 as one run). */
export function independentWorkload(tasks: number, command?: string[]): Workload {
  const list = Array.from({ length: tasks }, (_, i) => ({ name: `t${pad(i)}` }));
  return { name: `bench-independent-${tasks}`, workflow: workflowJson(`bench-independent-${tasks}`, list, command), tasks, source: 'independent' };
}

/** `layers` layers of `width` tasks, each depending on every task of the layer above (W4). */
export function layeredWorkload(layers: number, width: number): Workload {
  const name = (l: number, w: number) => `l${pad(l)}w${pad(w)}`;
  const list: { name: string; dependsOn?: string[] }[] = [];
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < width; w++) {
      list.push({ name: name(l, w), dependsOn: l === 0 ? undefined : Array.from({ length: width }, (_, k) => name(l - 1, k)) });
    }
  }
  const id = `bench-layered-${layers}x${width}`;
  return { name: id, workflow: workflowJson(id, list), tasks: layers * width, source: 'layered' };
}
