/** The comparison's workload shapes as plain DAGs (task index → its upstream indexes), for peers without DAGs. */
export interface Dag {
  /** `upstream[i]`: the tasks whose end starts task i. */
  readonly upstream: readonly (readonly number[])[];
}

export function independentDag(n: number): Dag {
  return { upstream: Array.from({ length: n }, () => []) };
}

export function chainDag(n: number): Dag {
  return { upstream: Array.from({ length: n }, (_, i) => (i === 0 ? [] : [i - 1])) };
}

/** 0 = src, 1..width = children, width + 1 = sink. */
export function fanoutDag(width: number): Dag {
  const children = Array.from({ length: width }, (_, i) => i + 1);
  return { upstream: [[], ...children.map(() => [0]), children] };
}

/** `layers` layers of `width` tasks; every task depends on every task of the layer above. */
export function layeredDag(layers: number, width: number): Dag {
  const upstream: number[][] = [];
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < width; w++) upstream.push(l === 0 ? [] : Array.from({ length: width }, (_, k) => (l - 1) * width + k));
  }
  return { upstream };
}

/** For each task, the tasks it starts. */
export function downstreamOf(dag: Dag): number[][] {
  const down: number[][] = dag.upstream.map(() => []);
  dag.upstream.forEach((ups, i) => { for (const u of ups) down[u]?.push(i); });
  return down;
}
