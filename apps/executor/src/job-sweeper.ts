/**
 * The periodic sweep of the kubernetes runtime (EXECUTOR_RUNTIME=kubernetes): deletes Skein's Jobs
 * that no attempt will come back for. The executor has no database, so "the attempt is terminal or
 * unknown" is judged from the Job itself: a Job that finished more than `graceMs` ago (its attempt's
 * result was read, or a redelivered dispatch had all that time to adopt it), or one still running
 * more than `graceMs` past its activeDeadlineSeconds. Jobs the runtime follows are never touched,
 * nor ones whose `skein.dev/cleanup` annotation keeps them (`keep`, or `deleteSucceeded` and failed).
 */
import type { Logger } from 'pino';
import { CLEANUP_ANNOTATION, type Job, type KubernetesRuntime } from '@skein/runtime';

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
export function jobStillNeeded(job: Job, now: number, graceMs: number): boolean {
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
  // A running Job with no deadline may belong to a long task: only its executor or a cancel ends it.
  if (deadline === undefined) return true;
  return now - created < deadline * 1000 + graceMs;
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
          const names = await this.options.runtime.sweep(namespace, async (_attemptId, job) => jobStillNeeded(job, this.now(), this.graceMs));
          deleted.push(...names);
          if (names.length > 0) this.options.logger.info({ namespace, jobs: names }, 'swept Jobs no attempt needs');
        } catch (err) {
          this.options.logger.warn({ err, namespace }, 'the Job sweep failed; the next one tries again');
        }
      }
    })();
    this.running = run;
    await run;
    this.running = undefined;
    return deleted;
  }
}
