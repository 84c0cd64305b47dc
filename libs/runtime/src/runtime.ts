/**
 * The contract between the executor and whatever actually runs a task: a local process, a
 * Kubernetes Job, or nothing at all (benchmarks). A runtime never throws for a task that fails:
 * every outcome, including "could not even start", is a {@link TaskResult}.
 */

/** An environment variable for a task. Secret values never reach a log. */
export interface TaskEnvVar {
  readonly name: string;
  readonly value: string;
  readonly secret: boolean;
}

/** Everything a runtime needs to start one attempt of one task. */
export interface TaskLaunch {
  readonly attemptId: string;
  readonly runId: string;
  readonly workflow: string;
  readonly task: string;
  /** 1 for the first try. */
  readonly attempt: number;
  /** Container image; the local runtime ignores it when there is a command. */
  readonly image?: string;
  /** The executable and its leading arguments (`command[0]` is looked up on PATH). */
  readonly command: readonly string[];
  /** Appended to `command`. */
  readonly args: readonly string[];
  readonly env: readonly TaskEnvVar[];
  /** Kill the task after this long; 0 = no limit. */
  readonly timeoutMs: number;
  readonly logicalDate: Date;
  /** The run's data interval; absent: both ends are the logical date. */
  readonly dataInterval?: { readonly start: Date; readonly end: Date };
  /** W3C trace context handed to the task as `TRACEPARENT`. */
  readonly traceparent?: string;
  /**
   * Where the stored log of this attempt ends, for a runtime that re-attaches to a task still running
   * (kubernetes adoption): output lines up to this point are already stored and are not emitted again.
   */
  readonly resumeLog?: LogResumePoint;
}

/** The last output line an attempt's stored log holds (see {@link TaskLaunch.resumeLog}). */
export interface LogResumePoint {
  /** The time of the last stored stdout/stderr line (the container runtime's timestamp, to the millisecond). */
  readonly afterTime: Date;
  /**
   * How many stored output lines carry exactly `afterTime`: that many lines at that instant are
   * skipped. A line the runtime cut into pieces (over its line limit) counts once per piece.
   */
  readonly linesAtTime: number;
}

/** Which stream a line of task output came from. `system` lines are written by Skein itself. */
export type TaskOutputStream = 'stdout' | 'stderr' | 'system';

/** One line of task output, without its line terminator, stamped when it was read. */
export interface TaskOutput {
  readonly stream: TaskOutputStream;
  readonly text: string;
  readonly time: Date;
}

/**
 * Why an attempt did not succeed. Machine-readable; carried as `TaskFailed.reason`.
 * `LOST` is never produced by a runtime: the executor reports it for a task whose process died with
 * a previous executor.
 */
export type FailureReason =
  | 'EXIT_CODE' | 'TIMEOUT' | 'SPAWN_FAILED' | 'OUTPUT_INVALID' | 'CANCELLED' | 'SIGNAL' | 'LOST'
  // Kubernetes only: the container was killed for exceeding its memory limit, or its pod was evicted.
  | 'OOM_KILLED' | 'EVICTED';

/** How an attempt ended. */
export interface TaskResult {
  readonly ok: boolean;
  /** The process's exit code; absent when it never ran or was killed by a signal. */
  readonly exitCode?: number;
  /** Set when `ok` is false. */
  readonly reason?: FailureReason;
  /** A sentence for people: what went wrong and, where possible, what to do. */
  readonly message?: string;
  /** The JSON object the task wrote to `SKEIN_OUTPUT_PATH`, when it wrote one. */
  readonly outputs?: Record<string, unknown>;
  readonly startTime: Date;
  readonly endTime: Date;
}

/** A launched attempt. */
export interface RunningTask {
  /**
   * Resolves when the task is running (the process was spawned). Rejects with a
   * `TaskNotStartedError` when it never started; `result` then tells why. Already handled, so
   * ignoring it is safe.
   */
  readonly started: Promise<Date>;
  /** Resolves once the task has ended and its output has been read; never rejects. */
  readonly result: Promise<TaskResult>;
  /** Stops the task (its whole process tree); the result's reason becomes `CANCELLED`. Idempotent. */
  cancel(reason: string): void;
  /**
   * Called by the executor after `result`, once the attempt's complete log is durably published:
   * a runtime that keeps the task's resources for the log's sake (the kubernetes runtime with
   * `deleteAfterRelease`) frees them now. Never called when the log could not be published, so
   * whatever is kept stays for the periodic sweep. Idempotent; never throws.
   */
  release?(): void;
}

/**
 * The consumer of a task's output says when to stop reading it: a runtime that can pause its source
 * (the local runtime's pipes) stops reading while `writable` is false and resumes once `drained()`
 * resolves, so a task that outpaces its log blocks on its own pipe instead of the executor buffering
 * its output without bound. The executor's `AttemptLog` is one.
 */
export interface OutputFlow {
  /** False while so much output waits downstream that the runtime should stop reading. */
  readonly writable: boolean;
  /** Resolves once `writable` is true again. */
  drained(): Promise<void>;
  /**
   * Values that must never appear in the output, learnt by the runtime while launching (the values
   * of the Kubernetes Secrets a task's env comes from): every line handed on afterwards, output and
   * system lines alike, has them replaced by `***`. Called before the task can write any output.
   */
  redactValues?(values: readonly string[]): void;
}

/** Something that runs tasks. */
export interface Runtime {
  /** `local`, `noop`, `kubernetes`: what a dispatch's `runtime` field names. */
  readonly name: string;
  /**
   * Starts a task. `onOutput` is called synchronously for each line, in order, until `result`
   * resolves; it must not throw. A runtime that can pause its output honours `flow` (see
   * {@link OutputFlow}); others ignore it.
   */
  launch(task: TaskLaunch, onOutput: (line: TaskOutput) => void, flow?: OutputFlow): RunningTask;
  /**
   * True when launching a redelivered dispatch attaches to the attempt's task if it still runs (the
   * kubernetes runtime finds its Job by name): the executor then launches it again instead of
   * reporting it LOST. A local process dies with its executor, so the local runtime leaves it unset.
   */
  readonly adoptsOnRedelivery?: boolean;
  /**
   * Present on runtimes that finish a task synchronously with no output and no side effects (the
   * noop runtime): the executor then takes a fast path with no `started` event and no logs, and may
   * simply run such a task again when its dispatch is redelivered.
   */
  runInline?(task: TaskLaunch): TaskResult;
}
