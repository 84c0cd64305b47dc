import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { formatDuration } from '@skein/domain';
import { listOverdueRuns } from '@skein/store';

export interface RunTimeoutOptions {
  readonly pool: Pool;
  readonly logger: Logger;
  /** Fails one overdue run (stops its attempts); `timeoutOf` tells the run's configured timeout. */
  readonly timeOut: (runId: string) => Promise<void>;
  /** @default 1000 */
  readonly sweepIntervalMs?: number;
}

/** Fails runs still going past their deadline (`spec.timeout`), on every replica (failing is idempotent). */
export class RunTimeoutSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: RunTimeoutOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.running.then(async () => {
        for (const runId of await listOverdueRuns(this.options.pool, new Date(), 100)) await this.options.timeOut(runId);
      }).catch((err) => this.options.logger.warn({ err }, 'run-timeout sweep failed'));
    }, this.options.sweepIntervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

/** The reason a timed-out run records. */
export function runTimeoutReason(timeoutMs: number | undefined): string {
  return `RUN_TIMEOUT: the run did not finish within its timeout${timeoutMs ? ` of ${formatDuration(timeoutMs)}` : ''}`;
}
