// How a job queue without DAGs runs one: a finished task enqueues the downstream tasks it alone was
// waiting for (a job that enqueues its successor); a task with several upstream tasks waits on a counter
// kept in the queue's own store, decremented atomically by each upstream, and is enqueued by the last.
import { downstreamOf, type Dag } from './dag-shapes';
import { now, type RunTimings, type TaskTiming } from './compare-adapter';

/** A task to enqueue: its run and its index in the DAG. */
export interface DagJob {
  readonly run: string;
  readonly task: number;
}

/** Fan-in counters in the peer's store (a PostgreSQL table, Redis keys). */
export interface FaninCounters {
  /** Sets the counter of each fan-in task of `run`. */
  init(run: string, counts: readonly { task: number; remaining: number }[]): Promise<void>;
  /** Decrements the counters of `tasks` in `run`; returns the tasks whose counter reached 0. */
  decrement(run: string, tasks: readonly number[]): Promise<number[]>;
}

interface ActiveRun {
  readonly dag: Dag;
  readonly down: number[][];
  readonly timings: (TaskTiming | undefined)[];
  /** Tasks whose downstream were released: a retried job (its release failed) releases again, once. */
  readonly released: boolean[];
  done: number;
  duplicates: number;
  lastEnd: number;
  readonly finished: () => void;
}

/** Drives DAG runs through a peer's enqueue call and its task handler. */
export class DagDriver {
  private readonly runs = new Map<string, ActiveRun>();
  private sequence = 0;
  /** The task's body between its start and end timestamps. @default none (a no-op task) */
  body: (() => Promise<void>) | undefined;

  constructor(
    private readonly enqueue: (jobs: readonly DagJob[], fromHandler: boolean) => Promise<void>,
    private readonly counters: FaninCounters,
  ) {}

  /** Submits `count` concurrent runs of `dag`; resolves when all ended, with their timings. */
  async run(dag: Dag, count = 1): Promise<{ submitted: number; perRun: RunTimings[]; makespans: number[] }> {
    const down = downstreamOf(dag);
    const ids = Array.from({ length: count }, () => `r${++this.sequence}`);
    const ended = ids.map((id) => new Promise<void>((resolve) => {
      this.runs.set(id, { dag, down, timings: dag.upstream.map(() => undefined), released: dag.upstream.map(() => false), done: 0, duplicates: 0, lastEnd: 0, finished: resolve });
    }));
    const fanin = dag.upstream.map((u, task) => ({ task, remaining: u.length })).filter((c) => c.remaining > 1);
    if (fanin.length > 0) for (const id of ids) await this.counters.init(id, fanin);
    const roots = dag.upstream.flatMap((u, task) => (u.length === 0 ? [task] : []));
    const submitted = now();
    await this.enqueue(ids.flatMap((run) => roots.map((task) => ({ run, task }))), false);
    await Promise.all(ended);
    const perRun = ids.map((id) => {
      const r = this.runs.get(id) as ActiveRun;
      this.runs.delete(id);
      return { submitted, tasks: r.timings as TaskTiming[], duplicates: r.duplicates, lastEnd: r.lastEnd };
    });
    return { submitted, perRun, makespans: perRun.map((r) => r.lastEnd - submitted) };
  }

  /** The task handler: its body (a no-op by default), timed, then the release of its downstream tasks. */
  async handle(job: DagJob): Promise<void> {
    const start = now();
    if (this.body) await this.body();
    const end = now();
    const run = this.runs.get(job.run);
    if (!run) return;
    if (run.released[job.task]) { run.duplicates++; return; }
    if (!run.timings[job.task]) {
      run.timings[job.task] = { start, end };
      run.lastEnd = Math.max(run.lastEnd, end);
    }
    const next: number[] = [];
    const counted: number[] = [];
    for (const d of run.down[job.task] ?? []) ((run.dag.upstream[d]?.length ?? 0) > 1 ? counted : next).push(d);
    if (counted.length > 0) next.push(...(await this.counters.decrement(job.run, counted)));
    if (next.length > 0) await this.enqueue(next.map((task) => ({ run: job.run, task })), true);
    run.released[job.task] = true;
    if (++run.done === run.dag.upstream.length) run.finished();
  }
}
