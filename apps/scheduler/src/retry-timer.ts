import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { listDueRetries, nextRetryTime } from '@skein/store';

export interface RetryTimerOptions {
  readonly pool: Pool;
  readonly logger: Logger;
  /** Starts the due retries of one run. */
  readonly fire: (runId: string, tasks: string[]) => Promise<void>;
  /** Also look every so often, for retries another replica scheduled. @default 1000 */
  readonly pollIntervalMs?: number;
}

/**
 * Starts retries when their due time comes: armed for the earliest known due time, with a slow poll
 * as a backstop for retries scheduled by other scheduler replicas.
 */
export class RetryTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private poller: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: RetryTimerOptions) {}

  start(): void {
    this.poller = setInterval(() => this.kick(), this.options.pollIntervalMs ?? 1000);
    this.poller.unref();
    this.kick();
  }

  /** A retry is due at `at`: make sure the timer fires by then. */
  schedule(at: Date): void {
    const when = at.getTime();
    if (this.stopped || when >= this.armedFor) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = when;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
      this.kick();
    }, Math.max(0, when - Date.now()));
  }

  private kick(): void {
    if (this.stopped) return;
    this.running = this.running.then(() => this.fireDue()).catch((err) => this.options.logger.warn({ err }, 'retry timer failed'));
  }

  private async fireDue(): Promise<void> {
    const due = await listDueRetries(this.options.pool, new Date(), 500);
    const byRun = new Map<string, string[]>();
    for (const d of due) byRun.set(d.runId, [...(byRun.get(d.runId) ?? []), d.task]);
    for (const [runId, tasks] of byRun) await this.options.fire(runId, tasks);
    const next = await nextRetryTime(this.options.pool);
    if (next) this.schedule(next);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
    await this.running;
  }
}
