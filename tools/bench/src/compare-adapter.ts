/** What every system in `npm run bench -- compare` implements: the same workloads, timed inside the task handlers. */

/** One task's start and end, in epoch milliseconds (fractional where the system records better than 1 ms). */
export interface TaskTiming {
  readonly start: number;
  readonly end: number;
}

/** The timings of one workload run, and when the harness began submitting it. */
export interface RunTimings {
  /** Epoch ms just before the first submission call. */
  readonly submitted: number;
  /** Every task that ran, in the workload's order where it has one (chain order; fan-out: src, children, sink). */
  readonly tasks: readonly TaskTiming[];
  /** How many tasks ran more than once (at-least-once redelivery); 0 where the system cannot say. */
  readonly duplicates?: number;
}

/** A system under comparison: started once, then asked for each workload several times. */
export interface SystemAdapter {
  readonly name: string;
  /** Package or product version, for the report. */
  readonly version: string;
  /** How it is configured, one line for the report. */
  readonly configuration: string;
  start(): Promise<void>;
  /** W1: `n` independent no-op tasks. */
  independent(n: number): Promise<RunTimings>;
  /** W2: a chain of `n` no-op tasks; `tasks` in chain order. */
  chain(n: number): Promise<RunTimings>;
  /** W3: src → `width` children → sink; `tasks` = [src, ...children, sink]. */
  fanout(width: number): Promise<RunTimings>;
  /** W4: `runs` concurrent runs of a `layers`×`width` layered DAG (each task depends on every task of the layer above). */
  layered?(runs: number, layers: number, width: number): Promise<LayeredTimings>;
  /** W5: from now on each task runs `body` (spawning /bin/true) inside its handler; undefined: a no-op again. */
  setTaskBody?(body: (() => Promise<void>) | undefined): void;
  /** Process ids whose peak RSS counts for this system (besides the harness child itself, if `countSelf`). */
  readonly countSelf: boolean;
  stop(): Promise<void>;
}

/** W4 timings: every task, and each run's makespan. */
export interface LayeredTimings {
  readonly submitted: number;
  readonly tasks: readonly TaskTiming[];
  /** Per run: its last task's end − submitted. */
  readonly runMakespans: readonly number[];
}

/** Where a handler gets its timestamps: sub-millisecond wall clock, comparable across processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
