// The scheduling workloads of `npm run bench` (issue 3), on the same four-process stack as chain/fanout:
//
//   layered --runs 100 --width 10 --depth 10   100 concurrent runs of a 100-task layered DAG
//   pool --tasks 1000 --slots 8                1,000 independent tasks in a pool of 8 slots, against the
//                                              same tasks without a pool, measured in the same run
import { Client } from 'pg';
import type { ServiceStack } from '@skein/testing';
import { median, quantile, readTimings } from './measure';
import { layeredWorkload } from './workloads';

export interface SchedulingArgs {
  readonly runs: number;
  readonly width: number;
  readonly depth: number;
  readonly tasks: number;
  readonly slots: number;
}

type Log = (line: string) => void;

async function trigger(stack: ServiceStack, workflow: string): Promise<string> {
  return (await stack.api.ok<{ run: { runId: string } }>('POST', `/v1/workflows/${workflow}/runs`, { params: {} })).run.runId;
}

async function waitForRuns(stack: ServiceStack, workflow: string, runIds: readonly string[]): Promise<void> {
  for (const runId of runIds) {
    for (;;) {
      const { run } = await stack.api.ok<{ run: { state: string } }>('GET', `/v1/workflows/${workflow}/runs/${runId}`);
      if (run.state === 'RUN_STATE_SUCCEEDED') break;
      if (run.state === 'RUN_STATE_FAILED' || run.state === 'RUN_STATE_CANCELLED') throw new Error(`run ${runId} ended ${run.state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The most intervals open at once (an interval holds from its start to its end, both inclusive). */
export function peakConcurrency(intervals: readonly { start: number; end: number }[]): number {
  const edges = intervals.flatMap((t) => [{ at: t.start, delta: 1 }, { at: t.end, delta: -1 }]).sort((a, b) => a.at - b.at || b.delta - a.delta);
  let used = 0;
  let peak = 0;
  for (const edge of edges) peak = Math.max(peak, (used += edge.delta));
  return peak;
}

/** 100 concurrent runs of a layered DAG: throughput, and how evenly the runs progress (p99 vs median makespan). */
export async function layeredBench(stack: ServiceStack, args: SchedulingArgs, log: Log): Promise<Record<string, unknown>> {
  const w = layeredWorkload(args.depth, args.width);
  await stack.api.ok('POST', '/v1/workflows:apply', { source: w.workflow, fileName: `${w.name}.json` });
  log(`warm-up: one run of ${w.tasks} tasks ...`);
  await waitForRuns(stack, w.name, [await trigger(stack, w.name)]);
  log(`${args.runs} concurrent runs of ${args.depth} layers × ${args.width} tasks ...`);
  const submitted = Date.now();
  const runIds = await Promise.all(Array.from({ length: args.runs }, () => trigger(stack, w.name)));
  await waitForRuns(stack, w.name, runIds);
  const makespans: number[] = [];
  let lastEnd = 0;
  let tasks = 0;
  for (const runId of runIds) {
    const { timings, ended } = await readTimings(stack.databaseUrl, runId);
    if (timings.length !== w.tasks) throw new Error(`run ${runId}: ${timings.length} of ${w.tasks} tasks succeeded`);
    tasks += timings.length;
    makespans.push(ended - submitted);
    lastEnd = Math.max(lastEnd, ended);
  }
  const seconds = (lastEnd - submitted) / 1000;
  const p50 = median(makespans);
  const p99 = quantile(makespans, 0.99);
  return {
    workload: 'layered', runs: args.runs, tasks_per_run: w.tasks, tasks, seconds: Number(seconds.toFixed(3)), tasks_per_s: Number((tasks / seconds).toFixed(1)),
    run_makespan_p50_ms: p50, run_makespan_p99_ms: p99, p99_over_median: Number((p99 / p50).toFixed(2)),
  };
}

/** When each attempt of a run held its slot: from dispatch (queue time) to its end, in µs-exact database time. */
async function slotHolds(databaseUrl: string, runId: string): Promise<{ start: number; end: number }[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ start: string; end: string }>(
      `SELECT (extract(epoch FROM queue_time) * 1e6)::bigint AS start, (extract(epoch FROM end_time) * 1e6)::bigint AS "end" FROM attempts WHERE run_id = $1`, [runId]);
    return rows.map((r) => ({ start: Number(r.start), end: Number(r.end) }));
  } finally {
    await client.end();
  }
}

function independentJson(name: string, tasks: number, pool?: string): string {
  return JSON.stringify({
    apiVersion: 'skein.dev/v1', kind: 'Workflow', metadata: { name },
    spec: { tasks: Array.from({ length: tasks }, (_, i) => ({ name: `t${String(i).padStart(5, '0')}`, command: ['true'], ...(pool && { pool }) })) },
  });
}

/**
 * 1,000 independent tasks in a pool of 8 slots, and the same tasks without a pool, alternating in one
 * run (median of `runs` each): the pool's cost in throughput, and the peak number of tasks in the pool
 * at once (must not exceed the slots).
 */
export async function poolBench(stack: ServiceStack, args: SchedulingArgs, log: Log): Promise<Record<string, unknown>> {
  const pool = 'bench-pool';
  await stack.api.ok('POST', '/v1/pools:apply', { source: `apiVersion: skein.dev/v1\nkind: Pool\nmetadata: {name: ${pool}}\nspec: {slots: ${args.slots}}\n`, fileName: 'pool.yaml' });
  const pooled = `bench-pool-${args.tasks}`;
  const free = `bench-nopool-${args.tasks}`;
  await stack.api.ok('POST', '/v1/workflows:apply', { source: independentJson(pooled, args.tasks, pool), fileName: 'pooled.json' });
  await stack.api.ok('POST', '/v1/workflows:apply', { source: independentJson(free, args.tasks), fileName: 'free.json' });
  const once = async (workflow: string) => {
    const runId = await trigger(stack, workflow);
    await waitForRuns(stack, workflow, [runId]);
    const { timings, created, ended } = await readTimings(stack.databaseUrl, runId);
    if (timings.length !== args.tasks) throw new Error(`run ${runId}: ${timings.length} of ${args.tasks} tasks succeeded`);
    return { seconds: (ended - created) / 1000, peak: peakConcurrency(await slotHolds(stack.databaseUrl, runId)) };
  };
  log('warm-up ...');
  await once(free);
  await once(pooled);
  const pooledSeconds: number[] = [];
  const freeSeconds: number[] = [];
  let peak = 0;
  for (let i = 1; i <= args.runs; i++) {
    const f = await once(free);
    const p = await once(pooled);
    freeSeconds.push(f.seconds);
    pooledSeconds.push(p.seconds);
    peak = Math.max(peak, p.peak);
    log(`run ${i}/${args.runs}: without a pool ${f.seconds.toFixed(3)} s, in a pool of ${args.slots} ${p.seconds.toFixed(3)} s (peak ${p.peak} at once)`);
  }
  if (peak > args.slots) throw new Error(`the pool held ${peak} tasks at once with ${args.slots} slots`);
  const ps = median(pooledSeconds);
  const fs = median(freeSeconds);
  return {
    workload: 'pool', tasks: args.tasks, slots: args.slots, runs: args.runs,
    pooled_seconds: Number(ps.toFixed(3)), pooled_tasks_per_s: Number((args.tasks / ps).toFixed(1)),
    unpooled_seconds: Number(fs.toFixed(3)), unpooled_tasks_per_s: Number((args.tasks / fs).toFixed(1)),
    pooled_over_unpooled_time: Number((ps / fs).toFixed(2)), peak_in_pool: peak,
  };
}
