// The comparison's outputs: a plain-text table, the section of docs/benchmarks.md, the raw JSON.
import type { CompareSizes, SystemResult } from './compare-system';

/** Everything one `compare` run measured, as written to tools/bench/results/latest.json. */
export interface CompareReport {
  readonly date: string;
  readonly quick: boolean;
  readonly machine: Record<string, string>;
  readonly sizes: CompareSizes;
  readonly systems: readonly SystemResult[];
}

interface Row {
  readonly workload: string;
  readonly metric: string;
  readonly label: string;
  readonly higherIsBetter: boolean;
  /** A baseline, not a figure to compare. */
  readonly noRatio?: boolean;
}

export function rows(sizes: CompareSizes): Row[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const w1 = `W1 independent ${n(sizes.independent)}`;
  const w2 = `W2 chain ${n(sizes.chain)}`;
  const w3 = `W3 fan-out 1→${n(sizes.fanout)}→1`;
  const w4 = `W4 layered ${sizes.layeredRuns}×(${sizes.layers}×${sizes.layerWidth})`;
  return [
    { workload: 'W1', metric: 'tasks_per_s', label: `${w1}: tasks/s`, higherIsBetter: true },
    { workload: 'W1-runs', metric: 'tasks_per_s', label: `${w1} as one-task runs: tasks/s`, higherIsBetter: true },
    { workload: 'W2', metric: 'hop_p50_ms', label: `${w2}: hop p50 ms`, higherIsBetter: false },
    { workload: 'W2', metric: 'hop_p99_ms', label: `${w2}: hop p99 ms`, higherIsBetter: false },
    { workload: 'W2', metric: 'hop_mean_ms', label: `${w2}: hop mean ms`, higherIsBetter: false },
    { workload: 'W3', metric: 'makespan_ms', label: `${w3}: makespan ms`, higherIsBetter: false },
    { workload: 'W3', metric: 'first_child_hop_ms', label: `${w3}: src end → first child ms`, higherIsBetter: false },
    { workload: 'W3', metric: 'sink_hop_ms', label: `${w3}: last child end → sink ms`, higherIsBetter: false },
    { workload: 'W4', metric: 'tasks_per_s', label: `${w4}: tasks/s`, higherIsBetter: true },
    { workload: 'W4', metric: 'run_p50_ms', label: `${w4}: run makespan p50 ms`, higherIsBetter: false },
    { workload: 'W4', metric: 'run_p99_ms', label: `${w4}: run makespan p99 ms`, higherIsBetter: false },
    { workload: 'W5', metric: 'chain_overhead_ms', label: `W5 spawn chain ${n(sizes.spawnChain)}: ms per task over a bare spawn`, higherIsBetter: false },
    { workload: 'W5', metric: 'independent_overhead_ms', label: `W5 spawn ${n(sizes.spawnTasks)} tasks: ms per task over bare spawns`, higherIsBetter: false },
    { workload: 'W5', metric: 'spawn_tasks_per_s', label: `W5 spawn ${n(sizes.spawnTasks)} tasks: tasks/s`, higherIsBetter: true },
    { workload: 'W5', metric: 'bare_spawn_ms', label: 'W5 bare /bin/true spawn ms (harness, same run)', higherIsBetter: false, noRatio: true },
    { workload: 'W6', metric: 'resume_ms', label: `W6 crash (Skein only): SIGKILL → first task started by the relaunched executor ms`, higherIsBetter: false, noRatio: true },
    { workload: 'W6', metric: 'tasks_lost', label: 'W6 crash: tasks lost (must be 0)', higherIsBetter: false, noRatio: true },
    { workload: 'W6', metric: 'tasks_run_twice', label: 'W6 crash: tasks run twice', higherIsBetter: false, noRatio: true },
    { workload: 'W6', metric: 'total_s', label: `W6 crash: ${n(sizes.independent)} tasks, submission → last end s`, higherIsBetter: false, noRatio: true },
    { workload: 'W6', metric: 'after_kill_s', label: 'W6 crash: SIGKILL → last task end s', higherIsBetter: false, noRatio: true },
  ];
}

// NaN is written to JSON as null: both read "n/a".
const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

function cell(s: SystemResult, row: Row): string {
  const st = s.workloads[row.workload]?.[row.metric];
  if (!st) return '–';
  if (st.median === null || !Number.isFinite(st.median)) return 'n/a';
  return st.q1 === st.q3 ? fmt(st.median) : `${fmt(st.median)} (${fmt(st.q1)}–${fmt(st.q3)})`;
}

/** Skein's median over the best peer's: "×2.10 ahead" or "×0.80 behind". */
function ratio(report: CompareReport, row: Row): string {
  const skein = report.systems.find((s) => s.system === 'Skein')?.workloads[row.workload]?.[row.metric]?.median;
  const peers = report.systems.filter((s) => s.system !== 'Skein').map((s) => s.workloads[(row.workload === 'W1-runs' ? 'W1' : row.workload)]?.[row.metric]?.median)
    .filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (row.noRatio || typeof skein !== 'number' || !Number.isFinite(skein) || peers.length === 0) return '–';
  const best = row.higherIsBetter ? Math.max(...peers) : Math.min(...peers);
  // An overhead at or below zero (within the noise of the bare baseline) has no meaningful ratio.
  if (best <= 0 || skein <= 0) return `– (best peer ${fmt(best)})`;
  const r = skein / best;
  const ahead = row.higherIsBetter ? r >= 1 : r <= 1;
  return `${r.toFixed(2)} (${ahead ? 'ahead' : 'behind'})`;
}

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)}`;

function rssLine(s: SystemResult): string {
  const total = Object.values(s.peakRssBytes).reduce((a, b) => a + b, 0);
  return `${mb(total)} (${Object.entries(s.peakRssBytes).map(([k, v]) => `${k} ${mb(v)}`).join(', ')})`;
}

/** The results as a Markdown table: one row per figure, one column per system, and Skein/best peer. */
export function markdownTable(report: CompareReport): string {
  const systems = report.systems.filter((s) => !s.skipped);
  const head = `| figure (median (IQR) of ${report.sizes.runs} run${report.sizes.runs > 1 ? 's' : ''}) | ${systems.map((s) => s.system).join(' | ')} | Skein / best peer |`;
  const sep = `|---|${systems.map(() => '---|').join('')}---|`;
  const body = rows(report.sizes).filter((r) => systems.some((s) => s.workloads[r.workload]?.[r.metric]))
    .map((r) => `| ${r.label} | ${systems.map((s) => cell(s, r)).join(' | ')} | ${ratio(report, r)} |`);
  const rss = `| peak RSS MB, sum of the system's processes | ${systems.map(rssLine).join(' | ')} | |`;
  return [head, sep, ...body, rss].join('\n');
}

/** The comparison section of docs/benchmarks.md. */
export function markdownSection(report: CompareReport): string {
  const m = report.machine;
  const s = report.sizes;
  const skipped = report.systems.filter((x) => x.skipped).map((x) => `- **${x.system}** did not run: ${x.skipped}.`);
  return [
    '## Side by side with the peers (issue 7)',
    '',
    '```sh',
    'npm run bench -- compare [--quick] [--runs N] [--slots N] [--systems Skein,pg-boss] [--only W1,W6] [--json FILE] [--no-docs]',
    'npm run bench -- compare --systems Skein --only W1-RUNS  # W1 as 10,000 one-task runs (Skein only; part of a full run, not of --only W1)',
    'npm run bench -- compare --quick                         # smoke run: small sizes, 1 run; writes tools/bench/results/quick.json only',
    'npm run bench -- compare --from saved.json[,more.json]   # re-render saved results (later files\' workloads merged in)',
    '```',
    '',
    'Each system runs in a process of its own, one after the other, on the same PostgreSQL (embedded, `synchronous_commit=on`,',
    '`fsync=on`; a fresh database each) and, for BullMQ, a redis-server the harness starts (`appendonly yes`,',
    '`appendfsync everysec`). Every system gets the same number of worker slots, a warm-up (a tenth of each size),',
    'then the measured runs. Task timestamps are taken inside the task handlers (Skein: the executor\'s recorded',
    'attempt start/end, whole milliseconds); run start is the harness\'s clock just before it submits. A hop is a',
    'task\'s start − its upstream\'s end. Peak RSS is the sum of each process\'s VmHWM: Skein\'s four services and',
    'nats-server; a peer\'s harness process (its workers and the submitting client) and, for BullMQ, redis-server.',
    'PostgreSQL is shared and not counted for anyone. Raw figures: `tools/bench/results/latest.json`.',
    '',
    `Run ${report.date}${report.quick ? ' (**--quick**: small sizes, 1 run — a smoke run, not a measurement)' : ''}.`,
    `Machine: ${m['cpus']}, ${m['memory']}, ${m['os']}; Node.js ${m['node']}; PostgreSQL ${m['postgres']}; ${m['nats']}; ${m['redis']}.`,
    `Sizes: W1 ${s.independent} tasks, W2 ${s.chain}, W3 1→${s.fanout}→1, W4 ${s.layeredRuns} runs of ${s.layers} layers × ${s.layerWidth}; W5 ${s.spawnTasks} spawning tasks and a chain of ${s.spawnChain}; ${s.slots} worker slots; ${s.runs} measured run(s).`,
    '',
    '| system | version | configuration |',
    '|---|---|---|',
    ...report.systems.filter((x) => !x.skipped).map((x) => `| ${x.system} | ${x.version} | ${x.configuration} |`),
    '',
    markdownTable(report),
    '',
    'Ratios: Skein\'s median ÷ the best peer\'s median (for tasks/s above 1 is ahead; for milliseconds below 1 is ahead).',
    'W5: each task starts /bin/true and waits for it (Skein: the executor\'s local runtime, a second stack; peers: in',
    'the job handler). Overhead per task = (the system\'s time − the harness\'s time for the same spawns, bare, in the',
    'same run: one after the other for the chain, `slots` at a time for the independent tasks) ÷ tasks.',
    'Skein\'s W1 as one-task runs (each run triggered through the HTTP API, 32 requests in flight) has at most 2 measured runs.',
    `Skein's workflows hold at most 5,000 tasks, so W1 above that runs as equal runs of at most 5,000 tasks, all at once.`,
    'For peers without DAGs (graphile-worker, pg-boss; BullMQ in W1, W2, W4) a finished job enqueues the jobs it',
    'alone was waiting for, and a task with several upstream tasks waits on a counter in the peer\'s own store',
    '(a PostgreSQL row; a Redis hash), decremented by each upstream and enqueued by the last.',
    ...(skipped.length > 0 ? ['', ...skipped] : []),
  ].join('\n');
}

const start = '<!-- compare:start (written by `npm run bench -- compare`) -->';
const end = '<!-- compare:end -->';

/** Replaces the comparison section of `doc` (or appends it), keeping everything else. */
export function replaceSection(doc: string, section: string): string {
  const block = `${start}\n${section}\n${end}`;
  const i = doc.indexOf(start.slice(0, 20));
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return `${doc.slice(0, i)}${block}${doc.slice(j + end.length)}`;
  return `${doc.trimEnd()}\n\n${block}\n`;
}
