import type { Logger } from 'pino';
import type { LogExpiry, LogStore } from '@skein/store';

export interface LogMaintenanceOptions {
  /**
   * Logs unchanged for this many days are deleted, unless their workflow sets its own
   * (`spec.logRetentionDays`, see `workflowRetention`). 0 keeps logs forever. @default 30
   */
  readonly retentionDays?: number;
  /**
   * The workflows that set their own retention, with its days (0: keep forever), read at every pass.
   * The collector reads them from the workflows table. @default none: `retentionDays` for every log
   */
  readonly workflowRetention?: () => Promise<ReadonlyMap<string, number>>;
  /** How often retention and the gap check run. 0 disables the periodic job. @default 600000 (10 min) */
  readonly intervalMs?: number;
  /** Lines deleted per statement. @default 1000 */
  readonly deleteBatchLines?: number;
  /** How long an attempt whose final count is known may miss lines before it is flagged. @default 300000 */
  readonly gapGraceMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY_MS);
/** Attempts taken per retention query; the pass loops until none is left. */
const ATTEMPTS_PER_PASS = 100;

/**
 * The collector's periodic job: deletes expired logs in small batches (short transactions, no long
 * locks) and flags attempts with missing lines. Several collector replicas may run it at once: both
 * statements are idempotent.
 */
export class LogMaintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly store: LogStore, private readonly logger: Logger, private readonly options: LogMaintenanceOptions = {}) {}

  start(): void {
    const interval = this.options.intervalMs ?? 600_000;
    if (interval <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.runOnce().catch((err: unknown) => this.logger.warn({ err }, 'log maintenance failed; it runs again later'))
        .finally(() => { this.running = undefined; });
    }, interval);
    this.timer.unref();
  }

  /** One pass: gap check, then retention. */
  async runOnce(now = new Date()): Promise<void> {
    for (const gap of await this.store.flagGaps(this.options.gapGraceMs ?? 300_000)) {
      this.logger.warn({ attemptId: gap.attemptId, missing: gap.missing }, 'an attempt log is missing lines');
    }
    const overrides = (await this.options.workflowRetention?.()) ?? new Map<string, number>();
    for (const [workflow, days] of overrides) {
      if (days > 0) await this.expire({ workflow, before: daysBefore(now, days) });
    }
    const days = this.options.retentionDays ?? 30;
    if (days > 0) await this.expire({ exceptWorkflows: [...overrides.keys()], before: daysBefore(now, days) });
  }

  /** Deletes what `expiry` selects, a few attempts per store call, until none is left. */
  private async expire(expiry: LogExpiry): Promise<void> {
    const batchLines = this.options.deleteBatchLines ?? 1000;
    for (;;) {
      const result = await this.store.deleteExpired(expiry, { batchLines, maxAttempts: ATTEMPTS_PER_PASS });
      if (result.attempts > 0) this.logger.info({ ...result, workflow: 'workflow' in expiry ? expiry.workflow : undefined }, 'expired logs deleted');
      if (result.attempts < ATTEMPTS_PER_PASS) return;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
