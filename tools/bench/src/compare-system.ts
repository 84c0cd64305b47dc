// One system's part of `npm run bench -- compare`, run in a process of its own (so its workers' memory is
// its own): start it, warm up, run every workload `runs` times, measure, stop. The parent process
// (compare.ts) collects the JSON this prints.
import { bareSpawns, spawnTrue } from './bare-spawn';
import { bullmqAdapter, bullmqUnavailable } from './adapter-bullmq';
import { graphileAdapter } from './adapter-graphile';
import { pgBossAdapter } from './adapter-pgboss';
import { skeinAdapter, type SkeinAdapter } from './adapter-skein';
import type { RunTimings, SystemAdapter } from './compare-adapter';
import { mean, stat, type Stat } from './compare-stats';
import { quantile } from './measure';
import { peakRssOfTree } from './process-memory';
import { createTestDatabase } from '@skein/testing';

/** Workload sizes and repetitions. */
export interface CompareSizes {
  readonly independent: number;
  readonly chain: number;
  readonly fanout: number;
  readonly layeredRuns: number;
  readonly layers: number;
  readonly layerWidth: number;
  /** W5: independent tasks that each spawn /bin/true, and the length of a chain of them. */
  readonly spawnTasks: number;
  readonly spawnChain: number;
  /** Measured runs of each workload (after one warm-up). */
  readonly runs: number;
  /** Worker slots, the same for every system. */
  readonly slots: number;
  /** Only these workloads (W1 … W6; W1-RUNS is W1 as one-task runs, Skein only). @default all */
  readonly only?: readonly string[];
}

export const fullSizes: CompareSizes = { independent: 10_000, chain: 1000, fanout: 1000, layeredRuns: 100, layers: 10, layerWidth: 10, spawnTasks: 1000, spawnChain: 200, runs: 5, slots: 64 };
export const quickSizes: CompareSizes = { independent: 300, chain: 30, fanout: 50, layeredRuns: 4, layers: 3, layerWidth: 3, spawnTasks: 20, spawnChain: 10, runs: 1, slots: 16,
  // W6 waits out redelivery after the crash (about 30 s whatever the size): `--quick --only W6` runs it.
  only: ['W1', 'W1-RUNS', 'W2', 'W3', 'W4', 'W5'] };

export const systemNames = ['Skein', 'graphile-worker', 'pg-boss', 'BullMQ'] as const;
export type SystemName = (typeof systemNames)[number];

/** One system's results: each workload's figures (median/IQR over the runs), peak RSS per process. */
export interface SystemResult {
  readonly system: string;
  readonly version: string;
  readonly configuration: string;
  readonly skipped?: string;
  readonly workloads: Record<string, Record<string, Stat>>;
  readonly peakRssBytes: Record<string, number>;
  readonly duplicates: number;
}

const tps = (n: number, t: RunTimings) => n / ((Math.max(...t.tasks.map((x) => x.end)) - t.submitted) / 1000);

function check(t: RunTimings, expected: number, what: string): void {
  if (t.tasks.length !== expected || t.tasks.some((x) => x === undefined)) throw new Error(`${what}: ${t.tasks.filter(Boolean).length} of ${expected} tasks ran`);
}

function chainFigures(t: RunTimings): Record<string, number> {
  const hops = t.tasks.slice(1).map((x, i) => x.start - (t.tasks[i] as { end: number }).end);
  return { hop_p50_ms: quantile(hops, 0.5), hop_p99_ms: quantile(hops, 0.99), hop_mean_ms: mean(hops), tasks_per_s: tps(t.tasks.length, t) };
}

function fanoutFigures(t: RunTimings): Record<string, number> {
  const src = t.tasks[0] as { end: number };
  const children = t.tasks.slice(1, -1);
  const sink = t.tasks[t.tasks.length - 1] as { start: number; end: number };
  return {
    makespan_ms: sink.end - t.submitted,
    first_child_hop_ms: Math.min(...children.map((c) => c.start)) - src.end,
    sink_hop_ms: sink.start - Math.max(...children.map((c) => c.end)),
  };
}

/** A measurement that has not ended in this long is stuck (a lost job, a deadlock): the system fails. */
const measurementTimeoutMs = 600_000;

function withTimeout<T>(label: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not end within ${measurementTimeoutMs / 1000} s`)), measurementTimeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `measure` once to warm up, then `runs` times; each figure becomes a Stat. */
async function repeat(runs: number, log: (l: string) => void, label: string, measure: (warmup: boolean) => Promise<Record<string, number>>): Promise<Record<string, Stat>> {
  await withTimeout(`${label} warm-up`, measure(true));
  const all: Record<string, number>[] = [];
  for (let i = 1; i <= runs; i++) {
    const figures = await withTimeout(`${label} ${i}/${runs}`, measure(false));
    all.push(figures);
    log(`${label} ${i}/${runs}: ${Object.entries(figures).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  }
  return Object.fromEntries(Object.keys(all[0] ?? {}).map((k) => [k, stat(all.map((f) => f[k] as number))]));
}

const lastEnd = (t: RunTimings) => Math.max(...t.tasks.map((x) => x.end));

/**
 * W5: tasks that spawn /bin/true, against the same spawns done bare by the harness in the same run
 * (one after the other for the chain; `slots` at a time for the independent tasks).
 */
async function spawnFigures(adapter: SystemAdapter, sizes: CompareSizes, warmup: boolean): Promise<Record<string, number>> {
  const chainN = warmup ? Math.max(2, Math.ceil(sizes.spawnChain / 10)) : sizes.spawnChain;
  const n = warmup ? Math.max(2, Math.ceil(sizes.spawnTasks / 10)) : sizes.spawnTasks;
  const bareChain = await bareSpawns(chainN, 1);
  const chain = await adapter.chain(chainN);
  check(chain, chainN, 'W5 chain');
  const bareParallel = await bareSpawns(n, sizes.slots);
  const independent = await adapter.independent(n);
  check(independent, n, 'W5 independent');
  const independentMs = lastEnd(independent) - independent.submitted;
  return {
    bare_spawn_ms: bareChain / chainN,
    chain_overhead_ms: (lastEnd(chain) - chain.submitted - bareChain) / chainN,
    independent_overhead_ms: (independentMs - bareParallel) / n,
    spawn_tasks_per_s: n / (independentMs / 1000),
  };
}

/** Runs every workload on one system; the databases it makes on `serverUrl` are dropped afterwards. */
export async function runSystem(name: SystemName, serverUrl: string, sizes: CompareSizes, log: (l: string) => void): Promise<SystemResult> {
  if (name === 'BullMQ') {
    const why = bullmqUnavailable();
    if (why) return { system: name, version: 'n/a', configuration: '', skipped: why, workloads: {}, peakRssBytes: {}, duplicates: 0 };
  }
  const database = name === 'Skein' ? undefined : await createTestDatabase(`bench_${name.replace(/\W/g, '_').toLowerCase()}`, serverUrl);
  const adapter: SystemAdapter = name === 'Skein' ? skeinAdapter({ serverUrl, slots: sizes.slots, log })
    : name === 'graphile-worker' ? graphileAdapter((database as { url: string }).url, sizes.slots)
      : name === 'pg-boss' ? pgBossAdapter((database as { url: string }).url, sizes.slots)
        : bullmqAdapter(sizes.slots);
  const workloads: Record<string, Record<string, Stat>> = {};
  let duplicates = 0;
  let stopped = false;
  const counted = (t: RunTimings) => { duplicates += t.duplicates ?? 0; return t; };
  try {
    log(`${name}: starting ...`);
    await adapter.start();
    const small = (n: number, warmup: boolean) => (warmup ? Math.max(2, Math.ceil(n / 10)) : n);
    const wanted = (w: string) => !sizes.only || sizes.only.includes(w);
    if (wanted('W1')) workloads['W1'] = await repeat(sizes.runs, log, `${name} W1`, async (w) => {
      const n = small(sizes.independent, w);
      const t = counted(await adapter.independent(n));
      check(t, Math.max(n, t.tasks.length), 'W1');
      return { tasks_per_s: tps(t.tasks.length, t), seconds: t.tasks.length / tps(t.tasks.length, t) };
    });
    if (name === 'Skein' && wanted('W1-RUNS')) {
      // 10,000 runs through the API take minutes each: at most 2 measured repetitions.
      workloads['W1-runs'] = await repeat(Math.min(sizes.runs, 2), log, `${name} W1 as runs`, async (w) => {
        const n = small(sizes.independent, w);
        const t = await (adapter as SkeinAdapter).independentRuns(n);
        check(t, n, 'W1 as runs');
        return { tasks_per_s: tps(n, t), seconds: n / tps(n, t) };
      });
    }
    if (wanted('W2')) workloads['W2'] = await repeat(sizes.runs, log, `${name} W2`, async (w) => {
      const n = small(sizes.chain, w);
      const t = counted(await adapter.chain(n));
      check(t, n, 'W2');
      return chainFigures(t);
    });
    if (wanted('W3')) workloads['W3'] = await repeat(sizes.runs, log, `${name} W3`, async (w) => {
      const n = small(sizes.fanout, w);
      const t = counted(await adapter.fanout(n));
      check(t, n + 2, 'W3');
      return fanoutFigures(t);
    });
    const layered = adapter.layered?.bind(adapter);
    if (layered && wanted('W4')) {
      workloads['W4'] = await repeat(sizes.runs, log, `${name} W4`, async (w) => {
        const runs = w ? 2 : sizes.layeredRuns;
        const t = await layered(runs, sizes.layers, sizes.layerWidth);
        check({ submitted: t.submitted, tasks: t.tasks }, runs * sizes.layers * sizes.layerWidth, 'W4');
        const p50 = quantile(t.runMakespans, 0.5);
        const p99 = quantile(t.runMakespans, 0.99);
        return { tasks_per_s: tps(t.tasks.length, { submitted: t.submitted, tasks: t.tasks }), run_p50_ms: p50, run_p99_ms: p99, p99_over_p50: p99 / p50 };
      });
    }
    const peakRssBytes = peakRssOfTree(adapter.countSelf);
    if (name === 'Skein' && wanted('W6')) {
      // One crash (after an unmeasured calibration run): what the killed consumers held comes back after
      // JetStream's ack wait (30 s), a running attempt after the scheduler's lost-attempt timeout (60 s).
      log(`${name} W6: SIGKILL of the scheduler and the executor halfway through ${sizes.independent} tasks ...`);
      try {
        const figures = await (adapter as SkeinAdapter).crash(sizes.independent, 240_000);
        log(`${name} W6: ${JSON.stringify(figures)}`);
        workloads['W6'] = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, stat([v])]));
      } catch (err) {
        // A crash that could not be placed mid-run measures nothing; the other workloads still count.
        log(`${name} W6 not measured: ${(err as Error).message}`);
      }
    }
    if (sizes.spawnTasks > 0 && wanted('W5')) {
      if (adapter.setTaskBody) {
        adapter.setTaskBody(spawnTrue);
        workloads['W5'] = await repeat(sizes.runs, log, `${name} W5`, (w) => spawnFigures(adapter, sizes, w));
        adapter.setTaskBody(undefined);
      } else if (name === 'Skein') {
        // Skein spawns tasks with the executor's local runtime: a second stack, so W1-W4 stay on noop.
        await adapter.stop();
        stopped = true;
        const local = skeinAdapter({ serverUrl, slots: sizes.slots, log, runtime: 'local' });
        try {
          await local.start();
          workloads['W5'] = await repeat(sizes.runs, log, `${name} W5`, (w) => spawnFigures(local, sizes, w));
        } finally {
          await local.stop();
        }
      }
    }
    return { system: name, version: adapter.version, configuration: adapter.configuration, workloads, peakRssBytes, duplicates };
  } finally {
    if (!stopped) await adapter.stop();
    await database?.drop();
  }
}
