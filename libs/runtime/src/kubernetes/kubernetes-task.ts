import type { Logger } from 'pino';
import { TaskNotStartedError } from '../errors';
import type { OutputFlow, RunningTask, TaskOutput, TaskResult } from '../runtime';
import { isKubeStatus, isRetryableKubeError } from './errors';
import { buildJobManifest, jobNamespace, TASK_CONTAINER, type KubernetesTaskLaunch } from './job-manifest';
import type { KubeClient } from './kube-client';
import type { Job, Pod } from './kube-objects';
import { LogFollower } from './log-follower';
import { parseTerminationMessage } from './termination-message';
import { containerStarted, isStuckReason, pendingReasons, podOutcome, type PodOutcome } from './pod-state';
import type { PodWatcher } from './pod-watcher';
import { readSecretValues, secretReferences, SecretUnreadableError } from './secret-values';
import type { CompiledKubernetesOptions } from './kubernetes-options';

/**
 * One attempt on Kubernetes: creates (or adopts) its Job, follows its pod through the shared watch,
 * writes Pending reasons into the task log, follows the container log, and settles the result from
 * the pod's final status. Every failure, including an API that refuses the Job, is a result.
 */
export class KubernetesTask implements RunningTask {
  readonly started: Promise<Date>;
  readonly result: Promise<TaskResult>;
  private resolveStarted!: (at: Date) => void;
  private rejectStarted!: (err: Error) => void;
  private resolveResult!: (result: TaskResult) => void;
  private readonly launchTime = new Date();
  private readonly namespace: string;
  private readonly jobName: string;
  private readonly logger: Logger;
  private startTime: Date | undefined;
  private settled = false;
  private stopping: { reason: 'CANCELLED' | 'TIMEOUT' | 'SPAWN_FAILED'; message: string } | undefined;
  private unsubscribe: (() => void) | undefined;
  private follower: LogFollower | undefined;
  private logsDone: Promise<void> = Promise.resolve();
  private outcome: PodOutcome | undefined;
  private outcomeSeen: (() => void) | undefined;
  private readonly outcomeKnown: Promise<void>;
  private readonly seenReasons = new Set<string>();
  private lastStuck: string | undefined;
  private pendingTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  /** The cleanup policy wants the Job deleted, and waits for `release()` to do it. */
  private deleteOnRelease = false;
  private released = false;

  constructor(
    private readonly task: KubernetesTaskLaunch,
    private readonly onOutput: (line: TaskOutput) => void,
    private readonly client: KubeClient,
    private readonly watcher: (namespace: string) => Promise<PodWatcher>,
    private readonly options: CompiledKubernetesOptions,
    private readonly onEnd: () => void,
    /** Aborted when the runtime stops: retry pauses end at once, so nothing outlives it. */
    private readonly signal: AbortSignal,
    /** The log stream pauses while this is not writable. */
    private readonly flow?: OutputFlow,
  ) {
    this.namespace = jobNamespace(task, options);
    const manifest = buildJobManifest(task, options);
    this.jobName = manifest.metadata.name ?? '';
    this.logger = options.logger.child({ attemptId: task.attemptId, job: this.jobName });
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    this.started.catch(() => undefined);
    this.result = new Promise((resolve) => (this.resolveResult = resolve));
    this.outcomeKnown = new Promise((resolve) => (this.outcomeSeen = resolve));
    void this.begin(manifest);
  }

  /**
   * Lets go of the attempt without touching its Job (the executor is stopping): streams close, and
   * the result says CANCELLED so the dispatch is not acked as done; another executor adopts the Job.
   */
  detach(): void {
    if (this.settled) return;
    this.follower?.stop();
    this.settle({ ok: false, reason: 'CANCELLED', message: 'the executor stopped following this attempt; its Job is left for another executor to adopt', startTime: this.startTime ?? this.launchTime, endTime: new Date() });
  }

  cancel(reason: string): void {
    if (this.settled || this.stopping) return;
    this.stop('CANCELLED', reason || 'cancelled');
  }

  private async begin(manifest: Job): Promise<void> {
    try {
      const watcher = await this.watcher(this.namespace);
      if (this.settled) return;
      // Subscribe before creating, so no event of the new pod is missed.
      this.unsubscribe = watcher.subscribe(this.task.attemptId, (pod, deleted) => this.onPod(pod, deleted));
      // The values are known before the container can print them (or, adopting, print more).
      if (this.options.redactSecrets) await this.hideSecretValues(manifest);
      // Cancelled while the Secrets were read: no Job to create.
      if (this.settled || this.stopping) return;
      await this.createOrAdopt(manifest);
    } catch (err) {
      const message = err instanceof SecretUnreadableError ? err.message : `Kubernetes refused the Job ${this.jobName}: ${(err as Error).message}`;
      this.system(message);
      this.settle({ ok: false, reason: 'SPAWN_FAILED', message, startTime: this.launchTime, endTime: new Date() });
      return;
    }
    if (this.settled || this.stopping) return;
    this.pendingTimer = setTimeout(() => {
      if (this.startTime || this.settled) return;
      const why = this.lastStuck ?? 'the pod did not start';
      this.stop('SPAWN_FAILED', `the pod did not start within ${Math.round(this.options.pendingTimeoutMs / 1000)}s: ${why}`);
    }, this.options.pendingTimeoutMs);
  }

  /** Reads the Secrets the task's env comes from and has the output's consumer hide their values. */
  private async hideSecretValues(manifest: Job): Promise<void> {
    const refs = secretReferences(manifest);
    if (refs.length === 0) return;
    const values = await readSecretValues(this.client, this.namespace, refs);
    this.flow?.redactValues?.(values);
    this.logger.debug({ secrets: refs.length, values: values.length }, 'secret values hidden in the task log');
  }

  /** Creates the Job; on 409 the Job of this attempt already exists (a redelivered dispatch): attach to it. */
  private async createOrAdopt(manifest: Job): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.createJob(this.namespace, manifest);
        this.logger.debug('job created');
        return;
      } catch (err) {
        if (isKubeStatus(err, 409)) {
          const existing = await this.client.getJob(this.namespace, this.jobName);
          if (existing.metadata.labels?.['skein.dev/attempt'] !== this.task.attemptId) {
            throw new Error(`a Job named ${this.jobName} exists but belongs to another attempt`, { cause: err });
          }
          this.system(`adopted the existing Job ${this.jobName} (the attempt's dispatch was delivered again)`);
          this.logger.info('job adopted');
          return;
        }
        if (!isRetryableKubeError(err) || attempt >= this.options.createAttempts) throw err;
        await pause(Math.min(5000, 200 * 2 ** attempt), this.signal);
        if (this.stopping || this.settled || this.signal.aborted) return;
      }
    }
  }

  private onPod(pod: Pod, deleted: boolean): void {
    // Once Skein stops the attempt, its outcome is Skein's reason, whatever the pod does on the way out.
    if (this.settled || this.stopping) return;
    if (!this.startTime) {
      for (const { reason, message } of pendingReasons(pod)) {
        if (isStuckReason(reason)) this.lastStuck = `${reason}${message ? `: ${message}` : ''}`;
        const line = `pod ${pod.metadata.name ?? ''} pending: ${reason}${message ? `: ${message}` : ''}`;
        if (this.seenReasons.has(line)) continue;
        this.seenReasons.add(line);
        this.system(line);
      }
      const startedAt = containerStarted(pod);
      if (startedAt) this.onStarted(pod, startedAt);
    }
    const outcome = podOutcome(pod);
    if (outcome && !this.outcome) {
      this.outcome = outcome;
      this.outcomeSeen?.();
      void this.finish();
    } else if (deleted && !this.outcome && !this.stopping) {
      this.stop('CANCELLED', `the pod ${pod.metadata.name ?? ''} was deleted outside Skein before it ended`);
    }
  }

  private onStarted(pod: Pod, at: Date): void {
    this.startTime = at;
    clearTimeout(this.pendingTimer);
    this.resolveStarted(at);
    if (this.task.timeoutMs > 0) {
      // activeDeadlineSeconds enforces the timeout in the cluster too; this timer reports it promptly.
      this.timeoutTimer = setTimeout(() => this.stop('TIMEOUT', `killed: timeout after ${Math.round(this.task.timeoutMs / 1000)}s`), this.task.timeoutMs);
    }
    const follower = new LogFollower(this.client, this.namespace, pod.metadata.name ?? '', TASK_CONTAINER,
      (line) => this.onOutput({ stream: 'stdout', text: line.text, time: line.time }), this.logger, this.task.resumeLog, this.flow);
    this.follower = follower;
    this.logsDone = follower.run(() => this.outcome !== undefined, () => this.outcomeKnown);
  }

  /** The pod ended: wait for the log to be read whole (bounded), then settle and clean up. */
  private async finish(): Promise<void> {
    const outcome = this.outcome;
    if (!outcome) return;
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.pendingTimer);
    await this.drainLog();
    this.follower?.stop();
    if (this.settled) return;
    let result: TaskResult = {
      ok: outcome.ok,
      ...(outcome.exitCode !== undefined && { exitCode: outcome.exitCode }),
      ...(outcome.reason && { reason: outcome.reason }),
      ...(outcome.message && { message: outcome.message }),
      startTime: outcome.startTime ?? this.startTime ?? this.launchTime,
      endTime: outcome.endTime ?? new Date(),
    };
    const parsed = parseTerminationMessage(outcome.terminationMessage);
    if (parsed.outputs) result = { ...result, outputs: parsed.outputs };
    if (parsed.error && result.ok) result = { ...result, ok: false, reason: 'OUTPUT_INVALID', message: parsed.error };
    this.settle(result);
    const policy = this.task.kubernetes?.cleanup ?? this.options.cleanup;
    if (policy === 'delete' || (policy === 'deleteSucceeded' && result.ok)) {
      // With deleteAfterRelease the Job (and its pod's log) stays until the executor has the log safe.
      if (!this.options.deleteAfterRelease || this.released) await this.deleteJob();
      else this.deleteOnRelease = true;
    }
  }

  /**
   * Waits for the rest of the log, up to `logDrainMs` of reading: time the read spends paused for
   * the flow (the log store is behind) does not count, so a slow store never cuts the log short.
   */
  private async drainLog(): Promise<void> {
    for (;;) {
      let drainTimer: NodeJS.Timeout | undefined;
      const read = await Promise.race([
        this.logsDone.then(() => true),
        new Promise<boolean>((resolve) => (drainTimer = setTimeout(() => resolve(false), this.options.logDrainMs))),
      ]);
      clearTimeout(drainTimer);
      const follower = this.follower;
      if (read || this.settled || !follower?.waitingForFlow) return;
      await follower.flowing();
    }
  }

  /** The executor holds the attempt's complete log: the Job may go (if the cleanup policy says so). */
  release(): void {
    this.released = true;
    if (!this.deleteOnRelease || this.signal.aborted) return;
    this.deleteOnRelease = false;
    void this.deleteJob();
  }

  /** Ends the attempt from Skein's side (cancel, timeout, pending timeout): deletes the Job and its pods. */
  private stop(reason: 'CANCELLED' | 'TIMEOUT' | 'SPAWN_FAILED', message: string): void {
    this.stopping = { reason, message };
    clearTimeout(this.pendingTimer);
    clearTimeout(this.timeoutTimer);
    if (reason !== 'CANCELLED') this.system(message);
    void this.deleteJob().then(() => {
      this.follower?.stop();
      if (!this.startTime) this.rejectStarted(new TaskNotStartedError(message));
      this.settle({ ok: false, reason, message, startTime: this.startTime ?? this.launchTime, endTime: new Date() });
    });
  }

  private async deleteJob(): Promise<void> {
    for (let attempt = 1; attempt <= this.options.createAttempts; attempt++) {
      try {
        await this.client.deleteJob(this.namespace, this.jobName);
        return;
      } catch (err) {
        if (isKubeStatus(err, 404)) return;
        if (!isRetryableKubeError(err) || attempt === this.options.createAttempts || this.signal.aborted) {
          // The periodic sweep removes what is left.
          this.logger.warn({ err }, 'the Job could not be deleted');
          return;
        }
        await pause(200 * 2 ** attempt, this.signal);
      }
    }
  }

  private system(text: string): void {
    this.onOutput({ stream: 'system', text, time: new Date() });
  }

  private settle(result: TaskResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.pendingTimer);
    clearTimeout(this.timeoutTimer);
    this.unsubscribe?.();
    this.follower?.stop();
    if (!this.startTime) this.rejectStarted(new TaskNotStartedError(result.message ?? 'the task did not start'));
    this.outcomeSeen?.();
    this.onEnd();
    this.resolveResult(result);
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
