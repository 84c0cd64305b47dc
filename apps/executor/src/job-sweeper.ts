/**
 * The periodic sweep of the kubernetes runtime (EXECUTOR_RUNTIME=kubernetes): deletes Skein's Jobs
 * that no attempt will come back for. The executor has no database, so "the attempt is terminal or
 * unknown" is judged from the Job itself and from the executors' heartbeats: a Job that finished
 * more than `graceMs` ago (its attempt's result was read, or a redelivered dispatch had all that
 * time to adopt it); one still running more than `graceMs` past its activeDeadlineSeconds; and one
 * still running, with or without a deadline, whose attempt no executor's heartbeat has named for
 * `graceMs` (the schedulers report such an attempt LOST after their lost-after time, shorter than
 * the grace, so it is terminal). Jobs the runtime follows are never touched, nor ones whose
 * `skein.dev/cleanup` annotation keeps them (`keep`, or `deleteSucceeded` and failed).
 */
import type { Logger } from 'pino';
import { CLEANUP_ANNOTATION, type Job, type KubernetesRuntime } from '@skein/runtime';
import type { AttemptSightings } from './attempt-sightings';

/** Options of {@link JobSweeper}. */
export interface JobSweeperOptions {
  readonly runtime: Pick<KubernetesRuntime, 'sweep' | 'namespaces'>;
  readonly logger: Logger;
  /** Namespaces swept even before an attempt ran there (the executor's default one). */
  readonly namespaces: readonly string[];
  /** Time between sweeps. @default 300000 (5 min) */
  readonly intervalMs?: number;
  /** How long a finished (or overdue) Job is left for its attempt's executor. @default 600000 (10 min) */
  readonly graceMs?: number;
  /** The clock. @default Date.now */
  readonly now?: () => number;
  /**
   * The executors' heartbeats, to find running Jobs nobody follows. Without them a running Job with
   * no deadline is left alone (only its executor or a cancel ends it).
   */
  readonly sightings?: Pick<AttemptSightings, 'listeningForMs' | 'lastSeenAt' | 'forgetOlderThan'>;
}

/** What the sweep knows of a Job's attempt beyond the Job itself. */
export interface AttemptActivity {
  /** How long heartbeats have been listened to. */
  readonly listeningForMs: number;
  /** When a heartbeat last named the attempt, if one did. */
  readonly lastSeenAt: number | undefined;
}

function finished(job: Job): 'succeeded' | 'failed' | undefined {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return 'succeeded';
  if (conditions.some((c) => c.type === 'Failed' && c.status === 'True')) return 'failed';
  if ((job.status?.succeeded ?? 0) > 0) return 'succeeded';
  if ((job.status?.failed ?? 0) > 0) return 'failed';
  return undefined;
}

/** Whether the sweep must leave `job` alone: its attempt may still need it. */
export function jobStillNeeded(job: Job, now: number, graceMs: number, activity?: AttemptActivity): boolean {
  const policy = job.metadata.annotations?.[CLEANUP_ANNOTATION];
  const state = finished(job);
  if (policy === 'keep' || (policy === 'deleteSucceeded' && state === 'failed')) return true;
  const created = Date.parse(job.metadata.creationTimestamp ?? '');
  if (Number.isNaN(created)) return true;
  if (state !== undefined) {
    const ended = Date.parse(job.status?.completionTime ?? '') || created;
    return now - ended < graceMs;
  }
  const deadline = job.spec.activeDeadlineSeconds;
  if (deadline !== undefined && now - created >= deadline * 1000 + graceMs) return false;
  // Running and within its deadline (or with none): needed while an executor follows it. That is
  // known only after heartbeats have been heard for the whole grace (an executor that just started
  // has not heard its peers yet), and a Job younger than the grace may not be followed yet.
  if (activity === undefined || activity.listeningForMs < graceMs || now - created < graceMs) return true;
  return activity.lastSeenAt !== undefined && now - activity.lastSeenAt < graceMs;
}

/** Runs the kubernetes runtime's sweep every `intervalMs` over the namespaces in use. */
export class JobSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly intervalMs: number;
  private readonly graceMs: number;
  private readonly now: () => number;

  constructor(private readonly options: JobSweeperOptions) {
    this.intervalMs = options.intervalMs ?? 300_000;
    this.graceMs = options.graceMs ?? 600_000;
    this.now = options.now ?? Date.now;
  }

  /** Sweeps once now, then every interval. */
  start(): void {
    if (this.timer) return;
    void this.sweepOnce();
    this.timer = setInterval(() => void this.sweepOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. Idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One sweep of every namespace; returns the Jobs deleted. Never throws (a failed namespace is logged). */
  async sweepOnce(): Promise<string[]> {
    if (this.running) await this.running;
    const deleted: string[] = [];
    const run = (async () => {
      const namespaces = new Set([...this.options.namespaces, ...this.options.runtime.namespaces]);
      for (const namespace of namespaces) {
        try {
          const names = await this.options.runtime.sweep(namespace, async (attemptId, job) => jobStillNeeded(job, this.now(), this.graceMs, this.activityOf(attemptId)));
          deleted.push(...names);
          if (names.length > 0) this.options.logger.info({ namespace, jobs: names }, 'swept Jobs no attempt needs');
        } catch (err) {
          this.options.logger.warn({ err, namespace }, 'the Job sweep failed; the next one tries again');
        }
      }
    })();
    this.running = run;
    await run;
    this.options.sightings?.forgetOlderThan(this.graceMs);
    this.running = undefined;
    return deleted;
  }

  private activityOf(attemptId: string): AttemptActivity | undefined {
    const sightings = this.options.sightings;
    return sightings && { listeningForMs: sightings.listeningForMs(), lastSeenAt: sightings.lastSeenAt(attemptId) };
  }
}
