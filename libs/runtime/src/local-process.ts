import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { TaskNotStartedError, TaskOutputInvalidError } from './errors';
import { formatDuration } from './format-duration';
import { LineSplitter } from './line-splitter';
import { describeSpawnError, signalProcessGroup } from './process-group';
import { readOutputs } from './read-outputs';
import type { FailureReason, OutputFlow, RunningTask, TaskLaunch, TaskOutput, TaskOutputStream, TaskResult } from './runtime';
import { buildTaskEnv } from './task-env';

/** Compiled local-runtime settings (every default applied). */
export interface LocalProcessSettings {
  readonly workDir: string | undefined;
  readonly tempDir: string;
  readonly killGraceMs: number;
  readonly stdioCloseMs: number;
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly maxOutputsBytes: number;
}

const ignore = (): void => undefined;

/**
 * One attempt as a local process: spawned without a shell as the leader of its own process group,
 * so that a timeout or a cancel can stop everything the task started (SIGTERM to the group, SIGKILL
 * after the grace period), and so that nothing it left behind outlives it.
 */
export class LocalProcess implements RunningTask {
  readonly started: Promise<Date>;
  readonly result: Promise<TaskResult>;

  private resolveStarted!: (time: Date) => void;
  private rejectStarted!: (error: Error) => void;
  private resolveResult!: (result: TaskResult) => void;
  private child: ChildProcess | undefined;
  private readonly startTime = new Date();
  private outputDir: string | undefined;
  private chunkTime = this.startTime;
  /** Set when Skein decided to stop the task; it then explains the exit. */
  private stopping: { reason: FailureReason; message: string } | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private settled = false;
  private readonly stdout: LineSplitter;
  private readonly stderr: LineSplitter;
  /** True while reading the task's output waits for {@link OutputFlow.drained}. */
  private paused = false;

  constructor(
    private readonly task: TaskLaunch,
    private readonly onOutput: (line: TaskOutput) => void,
    private readonly settings: LocalProcessSettings,
    /** The processes alive now; this one is in it from spawn to settle. */
    private readonly registry: Set<LocalProcess>,
    /** When given, output is read only while it is writable (backpressure into the task). */
    private readonly flow?: OutputFlow,
  ) {
    this.started = new Promise<Date>((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    // `started` rejects for a task that never ran; nobody has to listen for that.
    this.started.catch(ignore);
    this.result = new Promise<TaskResult>((resolve) => { this.resolveResult = resolve; });
    this.stdout = new LineSplitter((text) => this.deliver('stdout', text));
    this.stderr = new LineSplitter((text) => this.deliver('stderr', text));
    this.spawn();
  }

  cancel(reason: string): void {
    const message = reason ? `cancelled (${reason})` : 'cancelled';
    this.stop('CANCELLED', message, message);
  }

  /** SIGKILL to the whole group at once (the executor is going away). */
  killNow(): void {
    if (this.child?.pid !== undefined && !this.settled) signalProcessGroup(this.child.pid, 'SIGKILL');
  }

  private spawn(): void {
    const { task, settings } = this;
    const file = task.command[0];
    if (file === undefined || file === '') {
      const message = task.image
        ? 'the local runtime runs `command`; this task only has an image'
        : 'the task has no command to run';
      this.notStarted(message);
      return;
    }
    let child: ChildProcess;
    try {
      this.outputDir = mkdtempSync(path.join(settings.tempDir, 'skein-attempt-'));
      const env = buildTaskEnv(settings.baseEnv, task, path.join(this.outputDir, 'outputs.json'));
      child = spawn(file, [...task.command.slice(1), ...task.args], {
        cwd: settings.workDir,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      // spawn() itself throws only for invalid arguments (e.g. a NUL byte); mkdtemp for a bad tempDir.
      this.notStarted(`command "${file}" could not be started: ${(err as Error).message}`, err);
      return;
    }
    this.child = child;
    if (child.pid === undefined) {
      // The OS refused (ENOENT, EACCES, ...): Node reports it as an 'error' event on the next tick.
      child.once('error', (err) => this.notStarted(describeSpawnError(file, err, settings.workDir), err));
      return;
    }
    this.registry.add(this);
    this.resolveStarted(this.startTime);
    child.stdout?.on('data', (chunk: Buffer) => { this.chunkTime = new Date(); this.stdout.push(chunk); this.throttle(); });
    child.stderr?.on('data', (chunk: Buffer) => { this.chunkTime = new Date(); this.stderr.push(chunk); this.throttle(); });
    child.once('exit', () => this.exited());
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => this.closed(code, signal));
    // After a successful spawn an 'error' only means a failed kill; the exit still comes.
    child.on('error', ignore);
    if (task.timeoutMs > 0) {
      this.timeoutTimer = setTimeout(() => {
        const after = formatDuration(task.timeoutMs);
        this.stop('TIMEOUT', `killed: timeout after ${after}`, `timeout after ${after}`);
      }, task.timeoutMs);
    }
  }

  /**
   * Stops reading both pipes while the flow is not writable: the kernel's pipe buffer fills and the
   * task's next write blocks. Both, because a task blocked on stderr must not go on flooding stdout.
   */
  private throttle(): void {
    const flow = this.flow;
    if (flow === undefined || this.paused || flow.writable) return;
    this.paused = true;
    this.child?.stdout?.pause();
    this.child?.stderr?.pause();
    void flow.drained().then(() => {
      this.paused = false;
      this.child?.stdout?.resume();
      this.child?.stderr?.resume();
    });
  }

  private deliver(stream: TaskOutputStream, text: string): void {
    try {
      this.onOutput({ stream, text, time: this.chunkTime });
    } catch {
      // The contract says onOutput does not throw; a bug there must not kill the process handling.
    }
  }

  /** Stops the task for `reason`; `notice` goes to the task's log as it happens. */
  private stop(reason: FailureReason, message: string, notice: string): void {
    if (this.settled || this.stopping) return;
    this.stopping = { reason, message };
    const pid = this.child?.pid;
    if (pid === undefined) return;
    this.chunkTime = new Date();
    this.deliver('system', `${notice}: sending SIGTERM to the task's process group`);
    signalProcessGroup(pid, 'SIGTERM');
    this.killTimer = setTimeout(() => {
      this.chunkTime = new Date();
      this.deliver('system', `still running ${formatDuration(this.settings.killGraceMs)} after SIGTERM: sending SIGKILL`);
      signalProcessGroup(pid, 'SIGKILL');
    }, this.settings.killGraceMs);
  }

  /** The task's main process ended: what it left running in its group goes too. */
  private exited(): void {
    const child = this.child;
    if (child?.pid !== undefined) signalProcessGroup(child.pid, 'SIGKILL');
    // A process that escaped the group (setsid) may still hold stdout open; stop waiting for it.
    // (Node resumes a paused pipe when the process exits, so what the task wrote is read first.)
    this.closeTimer = setTimeout(() => {
      child?.stdout?.destroy();
      child?.stderr?.destroy();
    }, this.settings.stdioCloseMs);
  }

  private closed(code: number | null, signal: NodeJS.Signals | null): void {
    this.chunkTime = new Date();
    this.stdout.end();
    this.stderr.end();
    const endTime = new Date();
    const exitCode = code ?? undefined;
    let result: TaskResult;
    if (this.stopping) {
      result = { ok: false, reason: this.stopping.reason, message: this.stopping.message, exitCode, startTime: this.startTime, endTime };
    } else if (code === 0) {
      result = this.succeeded(endTime);
    } else if (code !== null) {
      result = { ok: false, reason: 'EXIT_CODE', message: `exited with code ${code}`, exitCode: code, startTime: this.startTime, endTime };
    } else {
      result = { ok: false, reason: 'SIGNAL', message: `killed by signal ${signal ?? 'unknown'}`, startTime: this.startTime, endTime };
    }
    this.settle(result);
  }

  private succeeded(endTime: Date): TaskResult {
    try {
      const outputs = this.outputDir === undefined
        ? undefined
        : readOutputs(path.join(this.outputDir, 'outputs.json'), this.settings.maxOutputsBytes);
      return outputs === undefined
        ? { ok: true, exitCode: 0, startTime: this.startTime, endTime }
        : { ok: true, exitCode: 0, outputs, startTime: this.startTime, endTime };
    } catch (err) {
      const message = err instanceof TaskOutputInvalidError ? err.message : `the outputs could not be read: ${(err as Error).message}`;
      return { ok: false, reason: 'OUTPUT_INVALID', message, exitCode: 0, startTime: this.startTime, endTime };
    }
  }

  private notStarted(message: string, cause?: unknown): void {
    this.rejectStarted(new TaskNotStartedError(message, { cause }));
    this.settle({ ok: false, reason: 'SPAWN_FAILED', message, startTime: this.startTime, endTime: new Date() });
  }

  private settle(result: TaskResult): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    if (this.outputDir !== undefined) {
      removeDir(this.outputDir);
    }
    this.registry.delete(this);
    this.resolveResult(result);
  }
}

/** Removes an attempt's directory: one `rmdir` in the common case of a task that wrote nothing there. */
function removeDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A leftover temporary directory is not worth failing an attempt for.
    }
  }
}
