import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { dueIntervals, nextScheduleTime, resolveParams, type ParamValue } from '@skein/domain';
import { latestScheduledLogicalDate, listScheduledWorkflows, type WorkflowRecord } from '@skein/store';

export interface CronSchedulerOptions {
  readonly pool: Pool;
  readonly logger: Logger;
  /** Creates the run of one interval unless it exists (idempotent on workflow and logical date). */
  readonly createRun: (workflowId: string, params: Record<string, ParamValue>, logicalDate: Date) => Promise<boolean>;
  /** Look for newly applied, changed or unpaused workflows this often. @default 5000 */
  readonly pollIntervalMs?: number;
  /** The clock (tests). @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * Creates the runs of scheduled workflows when their data intervals end: armed for the next fire time
 * of any workflow, with a slow poll as a backstop. Every replica may run one: run creation is
 * idempotent on (workflow, logical date), so no interval gets two runs.
 */
export class CronScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly now: () => Date;

  constructor(private readonly options: CronSchedulerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.kick();
  }

  /** Creates every due run now; resolves when done (tests call it directly). */
  tick(): Promise<void> {
    this.running = this.running.then(() => this.createDueRuns()).catch((err) => this.options.logger.error({ err }, 'schedule tick failed'));
    return this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    void this.tick().then(() => this.arm());
  }

  /** The next fire time of any scheduled workflow, from the last tick. */
  private nextWake = Number.POSITIVE_INFINITY;

  private arm(): void {
    if (this.stopped) return;
    const poll = this.options.pollIntervalMs ?? 5000;
    const wait = Math.max(0, Math.min(poll, this.nextWake - this.now().getTime()));
    this.timer = setTimeout(() => this.kick(), wait);
    this.timer.unref();
  }

  private async createDueRuns(): Promise<void> {
    const now = this.now();
    let nextWake = Number.POSITIVE_INFINITY;
    for (const workflow of await listScheduledWorkflows(this.options.pool)) {
      try {
        const created = await this.scheduleWorkflow(workflow, now);
        const { schedule, timezone } = workflow.spec.spec;
        const next = schedule ? nextScheduleTime(schedule, timezone, now) : undefined;
        // A long catch-up continues at once; otherwise wake at the next fire time.
        if (created >= 100) nextWake = now.getTime();
        else if (next) nextWake = Math.min(nextWake, next.getTime());
      } catch (err) {
        this.options.logger.error({ err, workflow: workflow.id }, 'could not schedule workflow; the others go on');
      }
    }
    this.nextWake = nextWake;
  }

  private async scheduleWorkflow(workflow: WorkflowRecord, now: Date): Promise<number> {
    const { schedule, timezone, startDate, endDate, catchup } = workflow.spec.spec;
    if (!schedule) return 0;
    const last = await latestScheduledLogicalDate(this.options.pool, workflow.id);
    const intervals = dueIntervals({ schedule, timezone, startDate, endDate, catchup }, {
      lastLogicalDate: last ?? undefined, origin: workflow.createTime, now, limit: 100,
    });
    if (intervals.length === 0) return 0;
    const { values, errors } = resolveParams(workflow.spec.spec.params, {});
    if (errors.length > 0) {
      this.options.logger.error({ workflow: workflow.id, errors }, 'scheduled runs need a default for every param; none created');
      return 0;
    }
    let created = 0;
    for (const interval of intervals) {
      if (await this.options.createRun(workflow.id, values, interval.start)) created++;
    }
    return created;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
