// Skein as it runs in production: the four services as OS processes on PostgreSQL and nats-server, the
// executor's noop runtime, runs triggered over the HTTP API. Task timestamps are the ones the executor
// recorded for each attempt (read back from the store after the run).
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { createNatsBus, EVENT_BATCH_HEADER } from '@skein/bus';
import { MAX_TASKS } from '@skein/domain';
import { TaskEvent, TaskEventBatch } from '@skein/proto';
import { startServiceStack, type ServiceStack } from '@skein/testing';
import { now, type LayeredTimings, type RunTimings, type SystemAdapter, type TaskTiming } from './compare-adapter';
import { readTimings } from './measure';
import { chainWorkload, fanoutWorkload, independentWorkload, layeredWorkload, type Workload } from './workloads';

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; results[i] = await fn(items[i] as T); }
  }));
  return results;
}

/** Options of the Skein adapter. */
export interface SkeinAdapterOptions {
  readonly serverUrl: string;
  readonly slots: number;
  readonly repoRoot?: string;
  readonly log: (line: string) => void;
  /** Executor runtime. @default 'noop' */
  readonly runtime?: 'noop' | 'local';
  /** Extra node flags per service (a CPU or heap profile of one of them). @default none */
  readonly nodeArgs?: Partial<Record<'scheduler' | 'executor' | 'api' | 'log-collector', readonly string[]>>;
}

/** W6: what a SIGKILL of the scheduler and the executor halfway through W1 cost. */
export interface CrashFigures {
  /** Kill → the first task started by the relaunched executor (includes both processes' start-up). */
  readonly resume_ms: number;
  /** Kill → both processes relaunched. */
  readonly relaunch_ms: number;
  /** Tasks that never succeeded (must be 0). */
  readonly tasks_lost: number;
  /** Tasks with more than one started attempt. */
  readonly tasks_run_twice: number;
  /** Tasks recorded as succeeded in the store when the processes were killed. */
  readonly succeeded_at_kill: number;
  /** Submission → last task end. */
  readonly total_s: number;
  /** Kill → last task end. */
  readonly after_kill_s: number;
}

export interface SkeinAdapter extends SystemAdapter {
  /** W6: `n` independent tasks (retries 2); the scheduler and the executor SIGKILLed and relaunched halfway. */
  crash(n: number, timeoutMs: number): Promise<CrashFigures>;
  /** W1 as `n` runs of a one-task workflow. */
  independentRuns(n: number): Promise<RunTimings>;
  readonly stack: () => ServiceStack;
}

export function skeinAdapter(options: SkeinAdapterOptions): SkeinAdapter {
  let stack: ServiceStack | undefined;
  let db: Client | undefined;
  const applied = new Set<string>();
  const s = () => stack as ServiceStack;

  const apply = async (w: Workload) => {
    if (applied.has(w.name)) return;
    await s().api.ok('POST', '/v1/workflows:apply', { source: w.workflow, fileName: `${w.name}.json` });
    applied.add(w.name);
  };
  const trigger = async (w: Workload) => (await s().api.ok<{ run: { runId: string } }>('POST', `/v1/workflows/${w.name}/runs`, { params: {} })).run.runId;
  /**
   * Waits until every run ended (polling the store: the figures come from the executor's timestamps, not
   * from this). Only the runs not yet seen to end are asked about again: 10,000 one-task runs asked about
   * every 20 ms would cost the shared PostgreSQL more than the runs.
   */
  const waitForRuns = async (ids: readonly string[]) => {
    let open = [...ids];
    for (;;) {
      const { rows } = await (db as Client).query<{ id: string; state: string }>(
        `SELECT id, state FROM runs WHERE id = ANY($1) AND state IN ('succeeded', 'failed', 'cancelled')`, [open]);
      const bad = rows.filter((r) => r.state !== 'succeeded');
      if (bad.length > 0) throw new Error(`${bad.length} of ${ids.length} runs failed`);
      const ended = new Set(rows.map((r) => r.id));
      open = open.filter((id) => !ended.has(id));
      if (open.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const timed = async (w: Workload): Promise<RunTimings> => {
    await apply(w);
    const submitted = now();
    const runId = await trigger(w);
    await waitForRuns([runId]);
    const { timings } = await readTimings(s().databaseUrl, runId);
    if (timings.length !== w.tasks) throw new Error(`run ${runId}: ${timings.length} of ${w.tasks} tasks succeeded`);
    // Task names sort in workload order (t00000…, w00000…); fan-out: src first, sink last.
    const rank = (task: string) => (task === 'src' ? '' : task === 'sink' ? '~' : task);
    timings.sort((a, b) => (rank(a.task) < rank(b.task) ? -1 : 1));
    return { submitted, tasks: timings.map((t) => ({ start: t.start, end: t.end })) };
  };
  const succeededCount = async (ids: readonly string[]) => Number((await (db as Client).query<{ n: string }>(
    `SELECT count(DISTINCT (run_id, task)) AS n FROM attempts WHERE run_id = ANY($1) AND state = 'succeeded'`, [ids])).rows[0]?.n);
  const attemptsOf = async (ids: readonly string[]): Promise<(TaskTiming & { runId: string })[]> => {
    const { rows } = await (db as Client).query<{ run_id: string; start: Date; end: Date }>(
      `SELECT run_id, start_time AS start, end_time AS "end" FROM attempts WHERE run_id = ANY($1) AND state = 'succeeded'`, [ids]);
    return rows.map((r) => ({ runId: r.run_id, start: r.start.getTime(), end: r.end.getTime() }));
  };

  return {
    name: 'Skein',
    version: 'workspace',
    configuration: `4 services as processes, executor ${options.runtime ?? 'noop'} runtime, EXECUTOR_CAPACITY ${options.slots}, nats-server JetStream (file storage)`,
    countSelf: false,
    stack: s,
    async start() {
      stack = await startServiceStack({
        repoRoot: options.repoRoot ?? path.resolve(__dirname, '..', '..', '..'),
        serverUrl: options.serverUrl,
        executorEnv: { EXECUTOR_RUNTIME: options.runtime ?? 'noop', EXECUTOR_CAPACITY: String(options.slots) },
        ...(options.nodeArgs && { nodeArgs: options.nodeArgs }),
        onOutput: (service, line) => options.log(`[${service}] ${line}`),
      });
      db = new Client({ connectionString: stack.databaseUrl });
      await db.connect();
    },
    async independent(n) {
      // A workflow holds at most MAX_TASKS tasks: more than that runs as several equal runs at once
      // (rounded up, so a few more than n tasks may run; the figures count the tasks that ran).
      const parts = Math.ceil(n / MAX_TASKS);
      if (parts === 1) return timed(independentWorkload(n));
      const w = independentWorkload(Math.ceil(n / parts));
      await apply(w);
      const submitted = now();
      const ids = await Promise.all(Array.from({ length: parts }, () => trigger(w)));
      await waitForRuns(ids);
      const tasks = await attemptsOf(ids);
      if (tasks.length !== parts * w.tasks) throw new Error(`${tasks.length} of ${parts * w.tasks} tasks succeeded`);
      return { submitted, tasks };
    },
    chain: (n) => timed(chainWorkload(n)),
    fanout: (width) => timed(fanoutWorkload(width)),
    async independentRuns(n) {
      const w = { ...independentWorkload(1), name: 'bench-single', workflow: independentWorkload(1).workflow.replace('bench-independent-1', 'bench-single') };
      await apply(w);
      const submitted = now();
      const ids = await inParallel(Array.from({ length: n }, (_, i) => i), 32, () => trigger(w));
      await waitForRuns(ids);
      const tasks = await attemptsOf(ids);
      if (tasks.length !== n) throw new Error(`${tasks.length} of ${n} one-task runs succeeded`);
      return { submitted, tasks };
    },
    async layered(runs, layers, width): Promise<LayeredTimings> {
      const w = layeredWorkload(layers, width);
      await apply(w);
      const submitted = now();
      const ids = await Promise.all(Array.from({ length: runs }, () => trigger(w)));
      await waitForRuns(ids);
      const tasks = await attemptsOf(ids);
      if (tasks.length !== runs * w.tasks) throw new Error(`${tasks.length} of ${runs * w.tasks} layered tasks succeeded`);
      const lastEnd = new Map<string, number>();
      for (const t of tasks) lastEnd.set(t.runId, Math.max(lastEnd.get(t.runId) ?? 0, t.end));
      return { submitted, tasks, runMakespans: [...lastEnd.values()].map((e) => e - submitted) };
    },
    async crash(n, timeoutMs) {
      const parts = Math.ceil(n / MAX_TASKS);
      const size = Math.ceil(n / parts);
      const name = `bench-crash-${size}`;
      // Retries, so an attempt lost with its executor runs again (after SCHEDULER_LOST_AFTER_MS).
      const tasks = Array.from({ length: size }, (_, i) => ({ name: `t${String(i).padStart(5, '0')}`, command: ['true'], retries: 2 }));
      await apply({ name, tasks: size, source: 'crash', workflow: JSON.stringify({ apiVersion: 'skein.dev/v1', kind: 'Workflow', metadata: { name }, spec: { tasks } }) });
      const total = parts * size;
      const submitAll = () => Promise.all(Array.from({ length: parts }, () => trigger({ name } as Workload)));
      // Halfway as the executor sees it. Creating the 5,000-task runs takes longer than a noop executor
      // needs to run them, so the executor is paused (SIGSTOP) until both runs exist, then resumed;
      // the harness listens to the task events on the broker (core NATS sees JetStream's messages
      // too) and kills once half of the tasks have reported their end. The store cannot say when that
      // is: it trails the executor by the events in flight.
      const listener = await createNatsBus({ servers: [s().natsUrl], name: 'bench-w6', logger: pino({ level: 'silent' }) });
      let ended = 0;
      let halfway: () => void = () => undefined;
      const reachedHalfway = new Promise<void>((resolve) => (halfway = resolve));
      listener.subscribeCore('skein.events.>', (_subject, data, headers) => {
        const events = headers[EVENT_BATCH_HEADER] ? TaskEventBatch.decode(data).events : [TaskEvent.decode(data)];
        ended += events.filter((e) => e.kind?.$case === 'succeeded' || e.kind?.$case === 'failed').length;
        if (ended >= total / 2) halfway();
      });
      const submitted = now();
      let ids: string[];
      let killedAt: number;
      try {
        s().signal('executor', 'SIGSTOP');
        try {
          ids = await submitAll();
        } finally {
          s().signal('executor', 'SIGCONT');
        }
        await reachedHalfway;
        // At once: a noop executor finishes the other half in a fraction of a second.
        killedAt = now();
        await Promise.all([s().kill('scheduler', 'SIGKILL'), s().kill('executor', 'SIGKILL')]);
      } finally {
        await listener.close();
      }
      const succeededAtKill = await succeededCount(ids);
      await Promise.all([s().restart('scheduler'), s().restart('executor')]);
      const relaunchedAt = now();
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const { rows } = await (db as Client).query<{ open: string }>(`SELECT count(*) AS open FROM runs WHERE id = ANY($1) AND state IN ('queued', 'running')`, [ids]);
        if (Number(rows[0]?.open) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { rows } = await (db as Client).query<{ twice: string; resumed: Date | null; last: Date | null }>(
        `SELECT (SELECT count(*) FROM (SELECT 1 FROM attempts WHERE run_id = ANY($1) AND start_time IS NOT NULL GROUP BY run_id, task HAVING count(*) > 1) x) AS twice,
                -- Resumed: the first start by the relaunched executor (a new identity), not a start the killed one
                -- made in the instant the signal took to land.
                (SELECT min(start_time) FROM attempts WHERE run_id = ANY($1) AND start_time > to_timestamp($2::float8 / 1000)
                    AND executor <> ALL (SELECT DISTINCT executor FROM attempts WHERE run_id = ANY($1) AND start_time <= to_timestamp($2::float8 / 1000))) AS resumed,
                (SELECT max(end_time) FROM attempts WHERE run_id = ANY($1) AND state = 'succeeded') AS last`, [ids, killedAt]);
      const row = rows[0];
      if (row?.last && row.last.getTime() <= killedAt) throw new Error('W6: every task had ended before the crash; nothing to measure');
      return {
        resume_ms: row?.resumed ? row.resumed.getTime() - killedAt : Number.NaN,
        relaunch_ms: relaunchedAt - killedAt,
        tasks_lost: total - (await succeededCount(ids)),
        tasks_run_twice: Number(row?.twice ?? 0),
        succeeded_at_kill: succeededAtKill,
        total_s: row?.last ? (row.last.getTime() - submitted) / 1000 : Number.NaN,
        after_kill_s: row?.last ? (row.last.getTime() - killedAt) / 1000 : Number.NaN,
      };
    },
    async stop() {
      await db?.end();
      await stack?.stop();
    },
  };
}
