import os from 'node:os';
import { LocalProcess, type LocalProcessSettings } from './local-process';
import { MAX_OUTPUTS_BYTES } from './read-outputs';
import type { OutputFlow, RunningTask, Runtime, TaskLaunch, TaskOutput } from './runtime';
import { pickInheritedEnv } from './task-env';

/** Options of {@link createLocalRuntime}. */
export interface LocalRuntimeOptions {
  /** Working directory of task processes. @default the executor's own working directory */
  workDir?: string;
  /** Time between SIGTERM and SIGKILL when a task is stopped (timeout, cancel). @default 5000 */
  killGraceMs?: number;
  /** Where each attempt's temporary directory (holding `SKEIN_OUTPUT_PATH`) is made. @default os.tmpdir() */
  tempDir?: string;
  /**
   * The variables every task inherits, before its own. Pass `pickInheritedEnv(process.env)` from
   * `main`. @default `PATH`, `HOME`, `LANG` and `TZ` of the executor's own environment
   */
  baseEnv?: Readonly<Record<string, string>>;
  /**
   * After a task's main process exits, how long a process that escaped its group may keep its
   * stdout open before Skein stops reading. @default 2000
   */
  stdioCloseMs?: number;
  /** The largest outputs file, in bytes. @default 65536 */
  maxOutputsBytes?: number;
}

/** The local runtime: tasks are child processes of the executor. */
export interface LocalRuntime extends Runtime {
  readonly name: 'local';
  /** How many task processes are alive now. */
  readonly activeCount: number;
  /**
   * SIGKILLs every task's process group, synchronously. For a process `exit` hook in `main`, so no
   * task outlives an executor that is going down without draining.
   */
  killAll(): void;
}

/**
 * A runtime that runs `command` + `args` as a local process, without a shell. While the `flow` given
 * to `launch` is not writable it stops reading the task's stdout and stderr, so the task blocks on
 * its pipe (at most the pipe's and one read buffer's worth of output waits in between). Each task gets its
 * own process group, a minimal environment (see {@link LocalRuntimeOptions.baseEnv}) plus its own
 * variables and the `SKEIN_*` ones, and a fresh temporary directory for its outputs.
 */
export function createLocalRuntime(options: LocalRuntimeOptions = {}): LocalRuntime {
  const settings: LocalProcessSettings = {
    workDir: options.workDir,
    tempDir: options.tempDir ?? os.tmpdir(),
    killGraceMs: options.killGraceMs ?? 5000,
    stdioCloseMs: options.stdioCloseMs ?? 2000,
    // Read once here, as a default; `main` may pass the environment explicitly instead.
    baseEnv: options.baseEnv ?? pickInheritedEnv(process.env),
    maxOutputsBytes: options.maxOutputsBytes ?? MAX_OUTPUTS_BYTES,
  };
  const alive = new Set<LocalProcess>();
  return {
    name: 'local',
    get activeCount() {
      return alive.size;
    },
    launch(task: TaskLaunch, onOutput: (line: TaskOutput) => void, flow?: OutputFlow): RunningTask {
      return new LocalProcess(task, onOutput, settings, alive, flow);
    },
    killAll() {
      for (const process of alive) process.killNow();
    },
  };
}
