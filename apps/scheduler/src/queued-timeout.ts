import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { subjects, type Bus } from '@skein/bus';
import { CancelAttempt, TaskEvent } from '@skein/proto';
import { listOverdueQueuedAttempts, listStaleQueuedAttempts, pruneQueueDeadlines, type AttemptRecord } from '@skein/store';

export interface QueuedTimeoutOptions {
  readonly pool: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  /** An attempt no executor has taken for this long fails with QUEUED_TIMEOUT. */
  readonly timeoutMs: number;
  /** @default min(timeoutMs / 4, 10000) */
  readonly sweepIntervalMs?: number;
  /** Who reports the timeout, in the attempt's `executor` field. */
  readonly identity: string;
}

/**
 * Nothing waits forever: an attempt still queued after the timeout (no executor took it — none serves
 * its queue, or all are down) is failed with reason QUEUED_TIMEOUT through the ordinary event path (a
 * task event deduplicated by id, applied under the run lock), so the retry policy applies. Executors are
 * told to cancel it, so one that takes the old dispatch later stops it at once.
 */
export class QueuedTimeoutSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: QueuedTimeoutOptions) {}

  start(): void {
    const interval = this.options.sweepIntervalMs ?? Math.min(this.options.timeoutMs / 4, 10_000);
    this.timer = setInterval(() => {
      this.running = this.running.then(async () => { await this.sweep(); }).catch((err) => this.options.logger.warn({ err }, 'queued-timeout sweep failed'));
    }, interval);
    this.timer.unref();
  }

  /**
   * Reports every attempt queued for longer than its task's `queuedTimeout`, or the scheduler's default
   * for tasks without one; returns how many.
   */
  async sweep(): Promise<number> {
    const now = new Date();
    const stale: (AttemptRecord & { timeoutMs: number })[] = [
      ...(await listStaleQueuedAttempts(this.options.pool, new Date(now.getTime() - this.options.timeoutMs), 500)).map((a) => ({ ...a, timeoutMs: this.options.timeoutMs })),
      ...await listOverdueQueuedAttempts(this.options.pool, now, 500),
    ];
    await Promise.all(stale.map(async (a) => {
      const seconds = Math.round(a.timeoutMs / 1000);
      this.options.bus.publishCore(subjects.cancel(a.id), CancelAttempt.encode(CancelAttempt.fromPartial({ attemptId: a.id, reason: 'QUEUED_TIMEOUT' })).finish());
      await this.options.bus.publish(subjects.event(a.runId), TaskEvent.encode(TaskEvent.fromPartial({
        attemptId: a.id, runId: a.runId, task: a.task, attempt: a.number, executor: this.options.identity, time: now,
        kind: { $case: 'failed', failed: { reason: 'QUEUED_TIMEOUT', message: `no executor took the task within ${seconds}s (is an executor serving its queue?)`, endTime: now } },
      })).finish(), { msgId: `${a.id}:queued-timeout` });
    }));
    if (stale.length > 0) this.options.logger.warn({ count: stale.length }, 'attempts failed with QUEUED_TIMEOUT');
    await pruneQueueDeadlines(this.options.pool);
    return stale.length;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
