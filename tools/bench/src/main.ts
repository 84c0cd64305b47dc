// `npm run bench -- <workload> [options]`: Skein as four separate processes on a real PostgreSQL
// (embedded, or BENCH_DATABASE_URL) and a real nats-server, with the executor's noop runtime (or, for chain and fanout, --runtime local).
// Progress goes to stderr; the last line on stdout is one JSON object with the results.
//
//   npm run bench -- chain --tasks 200 [--runs 3] [--hop-marks] [--runtime local]
//     (--hop-marks: where each hop's time goes; --runtime local: each task a process, `true`)
//   npm run bench -- fanout --width 1000 [--runs 3]
//   npm run bench -- layered --runs 100 --width 10 --depth 10
//   npm run bench -- pool --tasks 1000 --slots 8 [--runs 3]
//   npm run bench -- logs --lines 100000 [--tail-lines 2000]
//   npm run bench -- compare [--quick]   (Skein side by side with graphile-worker, pg-boss, BullMQ)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hopBreakdown, readHopMarks } from './hop-breakdown';
import { chainWorkload, fanoutWorkload, type Workload } from './workloads';
import { logsBench } from './logs-bench';
import { compare, compareSystemChild } from './compare';
import { layeredBench, poolBench } from './scheduling-bench';
import { hops, median, quantile, readTimings } from './measure';
import { startEmbeddedPostgres } from '@skein/store';
import { startServiceStack, type ServiceStack } from '@skein/testing';

interface Args {
  workload: string;
  tasks: number;
  width: number;
  runs: number;
  depth: number;
  slots: number;
  hopMarks: boolean;
  /** The executor's runtime: noop (nothing runs) or local (each task's command as a process). */
  runtime: 'noop' | 'local';
}

const WORKLOADS = ['chain', 'fanout', 'layered', 'pool'];

function parseArgs(argv: string[]): Args {
  const workload = argv[0] ?? '';
  const args: Args = workload === 'layered' ? { workload, tasks: 0, width: 10, depth: 10, runs: 100, slots: 0, hopMarks: false, runtime: 'noop' }
    : workload === 'pool' ? { workload, tasks: 1000, width: 0, depth: 0, runs: 3, slots: 8, hopMarks: false, runtime: 'noop' }
    : { workload, tasks: 200, width: 1000, runs: 3, depth: 0, slots: 0, hopMarks: false, runtime: 'noop' };
  for (let i = 1; i < argv.length; i += 2) {
    const flag = argv[i];
    if (flag === '--hop-marks' && workload === 'chain') {
      args.hopMarks = true;
      i -= 1;
      continue;
    }
    if (flag === '--runtime' && (workload === 'chain' || workload === 'fanout')) {
      const runtime = argv[i + 1];
      if (runtime !== 'noop' && runtime !== 'local') throw new Error(`--runtime is noop or local, not ${runtime ?? 'nothing'}`);
      args.runtime = runtime;
      continue;
    }
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs a positive whole number`);
    if (flag === '--tasks') args.tasks = value;
    else if (flag === '--width') args.width = value;
    else if (flag === '--runs') args.runs = value;
    else if (flag === '--depth') args.depth = value;
    else if (flag === '--slots') args.slots = value;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!WORKLOADS.includes(args.workload)) {
    throw new Error('usage: npm run bench -- chain [--tasks N] [--runs R] [--hop-marks] [--runtime noop|local] | fanout [--width N] [--runs R] [--runtime noop|local] | layered [--runs R] [--width N] [--depth N] | pool [--tasks N] [--slots S] [--runs R]');
  }
  return args;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Triggers one run and waits for its end; returns the run id. */
async function runOnce(stack: ServiceStack, workflow: string): Promise<string> {
  const triggered = await stack.api.ok<{ run: { runId: string } }>('POST', `/v1/workflows/${workflow}/runs`, { params: {} });
  const runId = triggered.run.runId;
  for (;;) {
    const { run } = await stack.api.ok<{ run: { state: string } }>('GET', `/v1/workflows/${workflow}/runs/${runId}`);
    if (run.state === 'RUN_STATE_SUCCEEDED') return runId;
    if (run.state === 'RUN_STATE_FAILED' || run.state === 'RUN_STATE_CANCELLED') throw new Error(`run ${runId} ended ${run.state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'compare') {
    await compare(process.argv.slice(3), log);
    return;
  }
  if (process.argv[2] === 'compare-system') {
    await compareSystemChild(process.argv.slice(3), log);
    // The result is written and every adapter stopped; a peer library's stray timer must not hold the run.
    process.exit(0);
  }
  if (process.argv[2] === 'logs') {
    process.stdout.write(`${JSON.stringify(await logsBench(process.argv.slice(3), log))}\n`);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  const workload: Workload = args.workload === 'fanout' ? fanoutWorkload(args.width) : chainWorkload(args.tasks || 20);
  const repoRoot = path.resolve(__dirname, '..', '..', '..');
  log(`starting PostgreSQL, nats-server and the four services (noop runtime) ...`);
  let serverUrl = process.env['BENCH_DATABASE_URL'];
  const postgres = serverUrl ? undefined : await startEmbeddedPostgres();
  serverUrl ??= postgres?.url as string;
  // BENCH_CPU_PROF_DIR: the scheduler and the executor write V8 CPU profiles there as they exit.
  const profileDir = process.env['BENCH_CPU_PROF_DIR'];
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  // --hop-marks: the scheduler and the executor record where each hop's time goes (docs/benchmarks.md).
  const marksDir = args.hopMarks ? mkdtempSync(path.join(tmpdir(), 'skein-hop-marks-')) : undefined;
  const marks: Record<string, string> = marksDir ? { SKEIN_HOP_MARKS: path.join(marksDir, 'marks') } : {};
  let result: Record<string, unknown> | undefined;
  const stack = await startServiceStack({
    repoRoot, serverUrl,
    schedulerEnv: marks,
    executorEnv: { EXECUTOR_RUNTIME: args.runtime, EXECUTOR_CAPACITY: '256', ...marks },
    nodeArgs: { scheduler: profile, executor: profile },
    onOutput: (service, line) => log(`[${service}] ${line}`),
  });
  try {
    if (args.workload === 'layered' || args.workload === 'pool') {
      const scheduling = args.workload === 'layered' ? await layeredBench(stack, args, log) : await poolBench(stack, args, log);
      process.stdout.write(`${JSON.stringify(scheduling)}\n`);
      return;
    }
    const warmup = chainWorkload(20);
    for (const w of [warmup, workload]) await stack.api.ok('POST', '/v1/workflows:apply', { source: w.workflow, fileName: `${w.name}.json` });
    log('warm-up run ...');
    await runOnce(stack, warmup.name);
    const allHops: number[] = [];
    const seconds: number[] = [];
    const sinkHops: number[] = [];
    for (let i = 1; i <= args.runs; i++) {
      const runId = await runOnce(stack, workload.name);
      const { timings, created, ended } = await readTimings(stack.databaseUrl, runId);
      if (timings.length !== workload.tasks) throw new Error(`run ${runId}: ${timings.length} of ${workload.tasks} tasks succeeded`);
      const runHops = hops(timings);
      allHops.push(...runHops);
      seconds.push((ended - created) / 1000);
      const sink = timings.find((t) => t.task === 'sink');
      if (sink) sinkHops.push(hops([sink, ...timings.filter((t) => t.task !== 'sink' && t.task !== 'src').map((t) => ({ ...t, dependsOn: [] }))])[0] ?? Number.NaN);
      log(`run ${i}/${args.runs}: ${workload.tasks} tasks in ${((ended - created) / 1000).toFixed(3)} s, hop p50 ${median(runHops)} ms`);
    }
    const s = median(seconds);
    result = {
      workload: args.workload,
      tasks: workload.tasks,
      seconds: Number(s.toFixed(3)),
      tasks_per_s: Number((workload.tasks / s).toFixed(1)),
      hop_p50_ms: quantile(allHops, 0.5),
      hop_p99_ms: quantile(allHops, 0.99),
      hop_mean_ms: Number((allHops.reduce((a, b) => a + b, 0) / allHops.length).toFixed(3)),
      runs: args.runs,
    };
    if (args.workload === 'fanout') {
      result['makespan_ms'] = Math.round(s * 1000);
      result['sink_hop_ms'] = median(sinkHops);
    }
  } finally {
    await stack.stop();
    await postgres?.stop();
  }
  if (marksDir) {
    // The services wrote their marks as they exited (the warm-up's hops included).
    const steps = hopBreakdown(readHopMarks(path.join(marksDir, 'marks')));
    rmSync(marksDir, { recursive: true, force: true });
    log('where a hop goes (median and mean, ms):');
    for (const step of steps) log(`  ${step.p50Ms.toFixed(3).padStart(8)} ${step.meanMs.toFixed(3).padStart(8)}  ${step.step} (${step.hops} hops)`);
    result['hop_breakdown'] = steps;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(1);
});
