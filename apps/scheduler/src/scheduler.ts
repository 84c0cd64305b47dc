import { newId, type ParamValue } from '@skein/domain';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { EVENT_BATCH_HEADER, subjects, type Bus, type BusMessage, type Subscription } from '@skein/bus';
import { CancelAttempt, TaskEvent, TaskEventBatch } from '@skein/proto';
import { abandonRun, getRun, getWorkflowVersion, listRunStatesAtLogicalDates, listWorkflowsWithWaitingRuns, NotFoundError } from '@skein/store';
import { attemptTraceparent, markHop } from '@skein/telemetry';
import { CronScheduler } from './cron-scheduler';
import { OutboxPublisher } from './outbox-publisher';
import { QueuedTimeoutSweeper } from './queued-timeout';
import { LostAttemptDetector } from './lost-attempts';
import { RunTimeoutSweeper, runTimeoutReason } from './run-timeouts';
import { RetryTimer } from './retry-timer';
import { RunApplier, type Applied, type AttemptTraceContext, type CreateRunInput } from './run-applier';
import { recordAttemptSpan, recordRunSpan } from './spans';
import { RunGraphCache } from './run-graph';
import { SlotAdmitter } from './slot-admitter';

export interface SchedulerOptions {
  readonly pool: Pool;
  /**
   * Connections for the hot path's one statement per event batch, made with `createPool`'s
   * `plannedOnce` (see `RunApplierOptions.hotPathPool`); writes beyond their number wait for one.
   * @default `pool`
   */
  readonly hotPathPool?: Pool;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Task events applied concurrently (events of one run are batched into one transaction). @default 16 */
  readonly maxInFlight?: number;
  /**
   * Redeliver an event not applied in this time. Events this scheduler holds (queued behind a
   * transaction of their run, or in one) are kept in progress every `ackWaitMs / 3`, so the ack wait
   * bounds only how long the events of a scheduler that died wait for another. @default 5000
   */
  readonly ackWaitMs?: number;
  /** @default 1000 */
  readonly outboxSweepIntervalMs?: number;
  /** @default 5000 */
  readonly outboxStaleAfterMs?: number;
  readonly traceContext?: AttemptTraceContext;
  /** Called after a run reaches a terminal state (telemetry, tests). */
  readonly onRunEnded?: (runId: string) => void;
  /** Create the runs of scheduled workflows. @default true */
  readonly schedules?: boolean;
  /** Look for new or changed schedules this often. @default 5000 */
  readonly schedulePollIntervalMs?: number;
  /** The schedules' clock (tests). @default () => new Date() */
  readonly now?: () => Date;
  /** Look for runs waiting under maxActiveRuns with a free slot this often. @default 5000 */
  readonly admissionSweepIntervalMs?: number;
  /** An attempt no executor takes for this long fails with QUEUED_TIMEOUT (retries apply). @default 3600000 */
  readonly queuedTimeoutMs?: number;
  /** @default min(queuedTimeoutMs / 4, 10000) */
  readonly queuedTimeoutSweepIntervalMs?: number;
  /** A running attempt no executor has named in a heartbeat for this long is LOST. @default 60000 */
  readonly lostAfterMs?: number;
  /** @default min(lostAfterMs / 4, 10000) */
  readonly lostSweepIntervalMs?: number;
  /** How often to look for runs past their `spec.timeout`. @default 1000 */
  readonly runTimeoutSweepIntervalMs?: number;
  /** How often to look for tasks waiting for a slot (pools, maxActiveTasks) besides when told. @default 2000 */
  readonly slotSweepIntervalMs?: number;
}

type State = 'created' | 'running' | 'stopping' | 'stopped';

/** @see SchedulerOptions.ackWaitMs */
export const DEFAULT_EVENT_ACK_WAIT_MS = 5000;

/** An event that fails this many deliveries is not a passing fault: its run is failed (abandoned). */
const MAX_EVENT_DELIVERIES = 5;

interface QueuedEvent {
  readonly event: TaskEvent;
  readonly delivery: Delivery;
}

/**
 * One delivered message, which holds one event or a batch (TaskEventBatch) of them. It is acked when
 * all its events are applied, nak-ed if any of them failed; the handler's promise resolves then.
 *
 * The ack does not wait for the server's confirmation: applying an event is idempotent (an event of
 * an attempt that already ended changes nothing), so an ack lost with the connection costs one more
 * delivery, and the hot path saves a reply to wait for.
 */
class Delivery {
  private remaining: number;
  private failed = false;

  constructor(readonly message: BusMessage, events: number, private readonly done: () => void) {
    this.remaining = events;
  }

  /** One of its events was applied (or its run abandoned: `ok`) or not; the last one settles the message. */
  settle(ok: boolean): void {
    if (!ok) this.failed = true;
    this.remaining -= 1;
    if (this.remaining > 0) return;
    if (this.failed) this.message.nak(1000);
    else this.message.ackNoWait();
    this.done();
  }
}

/**
 * The scheduler: owns runs, task runs, attempts and the outbox. Creates runs on command, applies task
 * events from executors (at least once, idempotently) and dispatches what becomes ready.
 */
export class Scheduler {
  private state: State = 'created';
  private readonly graphs: RunGraphCache;
  private readonly applier: RunApplier;
  private readonly outbox: OutboxPublisher;
  private readonly retries: RetryTimer;
  private readonly cron: CronScheduler | undefined;
  private readonly queuedTimeouts: QueuedTimeoutSweeper;
  private readonly lostAttempts: LostAttemptDetector;
  private readonly runTimeouts: RunTimeoutSweeper;
  private readonly slots: SlotAdmitter;
  private admissionSweep: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  private subscription: Subscription | undefined;
  /** Events waiting per run while a transaction of that run is in progress. */
  private readonly waiting = new Map<string, QueuedEvent[]>();
  /** The batch each run's transaction is applying. */
  private readonly applying = new Map<string, QueuedEvent[]>();
  private progressTicker: NodeJS.Timeout | undefined;

  constructor(private readonly options: SchedulerOptions) {
    this.graphs = new RunGraphCache(async (workflowId, version) => {
      const v = await getWorkflowVersion(options.pool, workflowId, version);
      if (!v) throw new NotFoundError('workflow version', `${workflowId}/${version}`);
      return v.spec;
    });
    this.outbox = new OutboxPublisher({
      pool: options.pool, bus: options.bus, logger: options.logger,
      staleAfterMs: options.outboxStaleAfterMs, sweepIntervalMs: options.outboxSweepIntervalMs,
    });
    this.retries = new RetryTimer({
      pool: options.pool, logger: options.logger,
      fire: async (runId, tasks) => this.afterCommit(runId, await this.applier.fireRetries(runId, tasks)),
    });
    this.cron = options.schedules === false ? undefined : new CronScheduler({
      pool: options.pool, logger: options.logger, pollIntervalMs: options.schedulePollIntervalMs, now: options.now,
      createRun: (workflowId, params, logicalDate) => this.createScheduledRun(workflowId, params, logicalDate),
    });
    this.queuedTimeouts = new QueuedTimeoutSweeper({
      pool: options.pool, bus: options.bus, logger: options.logger, identity: 'scheduler',
      timeoutMs: options.queuedTimeoutMs ?? 3_600_000, sweepIntervalMs: options.queuedTimeoutSweepIntervalMs,
    });
    this.lostAttempts = new LostAttemptDetector({
      pool: options.pool, bus: options.bus, logger: options.logger, lostAfterMs: options.lostAfterMs ?? 60_000,
      sweepIntervalMs: options.lostSweepIntervalMs,
    });
    this.runTimeouts = new RunTimeoutSweeper({
      pool: options.pool, logger: options.logger, sweepIntervalMs: options.runTimeoutSweepIntervalMs,
      timeOut: (runId) => this.timeOutRun(runId),
    });
    this.slots = new SlotAdmitter({
      pool: options.pool, logger: options.logger, sweepIntervalMs: options.slotSweepIntervalMs,
      publish: (messages) => this.outbox.publish(messages),
    });
    this.applier = new RunApplier({
      pool: options.pool, hotPathPool: options.hotPathPool, graphs: this.graphs, logger: options.logger,
      traceContext: options.traceContext ?? ((run, _task, _attempt, attemptId) => attemptTraceparent(run.id, attemptId)),
      onRetryScheduled: (at) => this.retries.schedule(at),
      takeSentOutbox: () => this.outbox.takeSent(),
    });
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`scheduler cannot start from state ${this.state}`);
    this.state = 'running';
    const ackWaitMs = this.options.ackWaitMs ?? DEFAULT_EVENT_ACK_WAIT_MS;
    this.subscription = await this.options.bus.consume(
      { stream: 'events', durable: 'scheduler', ackWaitMs, maxInFlight: this.options.maxInFlight ?? 256 },
      (message) => this.onEvent(message),
    );
    this.progressTicker = setInterval(this.keepInProgress, Math.max(10, Math.floor(ackWaitMs / 3)));
    this.progressTicker.unref();
    this.outbox.start();
    this.retries.start();
    this.cron?.start();
    this.queuedTimeouts.start();
    this.lostAttempts.start();
    this.runTimeouts.start();
    this.slots.start();
    this.admissionSweep = setInterval(() => {
      this.sweeping = this.sweeping.then(() => this.sweepAdmissions()).catch((err) => this.options.logger.warn({ err }, 'admission sweep failed'));
    }, this.options.admissionSweepIntervalMs ?? 5000);
    this.admissionSweep.unref();
    // Anything a previous incarnation committed but did not publish goes out now.
    await this.outbox.sweep().catch((err) => this.options.logger.warn({ err }, 'initial outbox sweep failed'));
    this.options.logger.info('scheduler started');
  }

  /** Creates a run and publishes its first dispatches. */
  async createRun(input: CreateRunInput): Promise<{ runId: string }> {
    const created = await this.applier.createRun(input);
    if (!created.run) throw new Error(`a ${input.trigger} run of ${input.workflowId} for ${input.logicalDate?.toISOString()} exists already`);
    this.options.logger.info({ runId: created.run.id, workflow: input.workflowId, trigger: input.trigger }, 'run created');
    await this.afterCommit(created.run.id, created);
    // Waiting behind earlier runs: admission takes them in logical-date order if a slot is free.
    if (created.waiting) await this.admit(input.workflowId);
    return { runId: created.run.id };
  }

  /** Creates the scheduled run of one data interval, unless it exists; true when this call created it. */
  async createScheduledRun(workflowId: string, params: Record<string, ParamValue>, logicalDate: Date): Promise<boolean> {
    const created = await this.applier.createRun({ workflowId, params, trigger: 'schedule', logicalDate });
    if (!created.run) return false;
    this.options.logger.info({ runId: created.run.id, workflow: workflowId, logicalDate }, 'scheduled run created');
    await this.afterCommit(created.run.id, created);
    if (created.waiting) await this.admit(workflowId);
    return true;
  }

  /**
   * Creates backfill runs for these logical dates, oldest first (they start as maxActiveRuns allows).
   * A date that already has a queued, running or (unless `rerunSucceeded`) succeeded run is skipped.
   */
  async backfill(workflowId: string, logicalDates: readonly Date[], params: Record<string, ParamValue>,
    rerunSucceeded: boolean, maxActive = 0): Promise<{ runIds: string[]; skipped: Date[] }> {
    // With a limit of its own, the backfill's runs share an id their admission counts by.
    const backfill = maxActive > 0 ? { id: newId(), maxActive } : undefined;
    const sorted = [...logicalDates].sort((a, b) => a.getTime() - b.getTime());
    const existing = await listRunStatesAtLogicalDates(this.options.pool, workflowId, sorted);
    const runIds: string[] = [];
    const skipped: Date[] = [];
    for (const logicalDate of sorted) {
      const states = existing.get(logicalDate.getTime()) ?? [];
      if (states.some((s) => s === 'queued' || s === 'running' || (s === 'succeeded' && !rerunSucceeded))) {
        skipped.push(logicalDate);
        continue;
      }
      runIds.push((await this.createRun({ workflowId, params, trigger: 'backfill', logicalDate, ...(backfill && { backfill }) })).runId);
    }
    this.options.logger.info({ workflow: workflowId, created: runIds.length, skipped: skipped.length }, 'backfill');
    return { runIds, skipped };
  }

  /** Runs tasks of an ended run again (see RunApplier.retryRun); returns the tasks cleared. */
  async retryRun(runId: string, task?: string): Promise<{ tasks: string[] }> {
    const result = await this.applier.retryRun(runId, task);
    await this.afterCommit(runId, result);
    this.options.logger.info({ runId, tasks: result.retried }, 'run retried');
    return { tasks: result.retried };
  }

  /**
   * Cancels a run and tells every executor to stop its attempts (core NATS `skein.cancel.<attempt>`;
   * an executor that gets the dispatch later remembers the cancel and stops it at once).
   */
  async cancelRun(runId: string, reason: string): Promise<{ cancelled: boolean }> {
    return this.stopRun(runId, reason || 'cancelled', 'cancelled');
  }

  /** Fails a run past its deadline the way a cancel stops it: its attempts are stopped. */
  private async timeOutRun(runId: string): Promise<void> {
    const run = await getRun(this.options.pool, runId);
    if (!run) return;
    const graph = await this.graphs.get(run.workflowId, run.workflowVersion);
    await this.stopRun(runId, runTimeoutReason(graph.spec.spec.timeoutMs), 'failed');
  }

  private async stopRun(runId: string, reason: string, endState: 'cancelled' | 'failed'): Promise<{ cancelled: boolean }> {
    const result = await this.applier.cancelRun(runId, reason, endState);
    for (const { attemptId } of result.stopAttempts) {
      this.options.bus.publishCore(subjects.cancel(attemptId), CancelAttempt.encode(CancelAttempt.fromPartial({ attemptId, reason: reason || 'cancelled' })).finish());
    }
    await this.afterCommit(runId, result);
    if (result.runEnded) this.options.logger.info({ runId, stopped: result.stopAttempts.length, reason }, endState === 'failed' ? 'run failed' : 'run cancelled');
    return { cancelled: result.runEnded };
  }

  private onEvent(message: BusMessage): Promise<void> {
    markHop('scheduler.event-received');
    let events: TaskEvent[];
    try {
      events = message.headers[EVENT_BATCH_HEADER] ? TaskEventBatch.decode(message.data).events : [TaskEvent.decode(message.data)];
    } catch (err) {
      this.options.logger.error({ err, subject: message.subject }, 'undecodable task event dropped');
      message.term();
      return Promise.resolve();
    }
    if (events.length === 0) {
      message.term();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const delivery = new Delivery(message, events.length, resolve);
      // Queue every event first, so that a batch's events of one run go into one transaction.
      const idle: string[] = [];
      for (const event of events) {
        const queue = this.waiting.get(event.runId);
        if (queue) {
          queue.push({ event, delivery });
          continue;
        }
        this.waiting.set(event.runId, [{ event, delivery }]);
        idle.push(event.runId);
      }
      for (const runId of idle) void this.drainRun(runId);
    });
  }

  /** Applies the run's waiting events in batches until none are left; one drainer per run at a time. */
  private async drainRun(runId: string): Promise<void> {
    for (;;) {
      const batch = this.waiting.get(runId) ?? [];
      if (batch.length === 0) {
        this.waiting.delete(runId);
        return;
      }
      this.waiting.set(runId, []);
      this.applying.set(runId, batch);
      let applied: Applied | undefined;
      try {
        applied = await this.applier.applyEvents(runId, batch.map((b) => b.event));
        markHop('scheduler.committed');
      } catch (err) {
        if (batch.some((b) => b.delivery.message.deliveryCount >= MAX_EVENT_DELIVERIES)) {
          // Not a passing fault: this run cannot be processed. End it with the reason and go on.
          await this.abandon(runId, err);
          for (const b of batch) b.delivery.settle(true);
        } else {
          this.options.logger.error({ err, runId, events: batch.length }, 'applying task events failed; they will be redelivered');
          for (const b of batch) b.delivery.settle(false);
        }
      }
      if (applied !== undefined) {
        // Committed: the events are acked now, in the same write to the broker as the dispatches'
        // publish (a dispatch whose publish fails is re-published by the outbox sweep).
        for (const b of batch) b.delivery.settle(true);
        try {
          await this.afterCommit(runId, applied);
        } catch (err) {
          this.options.logger.error({ err, runId }, 'after applying task events');
        }
      }
      this.applying.delete(runId);
    }
  }

  /** Tells the broker that the events this scheduler holds are being worked on (not lost). */
  private readonly keepInProgress = (): void => {
    for (const queue of [...this.waiting.values(), ...this.applying.values()]) {
      for (const item of queue) item.delivery.message.working();
    }
  };

  private async abandon(runId: string, err: unknown): Promise<void> {
    const reason = `the scheduler could not process this run: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
    try {
      const stopped = await abandonRun(this.options.pool, runId, reason);
      for (const attemptId of stopped) {
        this.options.bus.publishCore(subjects.cancel(attemptId), CancelAttempt.encode(CancelAttempt.fromPartial({ attemptId, reason: 'RUN_ABANDONED' })).finish());
      }
      this.options.logger.error({ err, runId }, 'run failed: its events could not be applied');
    } catch (abandonErr) {
      this.options.logger.error({ err: abandonErr, runId }, 'could not mark an unprocessable run failed');
    }
  }

  private async afterCommit(runId: string, applied: Applied): Promise<void> {
    await this.outbox.publish(applied.outbox);
    if (applied.slotsChanged) this.slots.request();
    for (const attempt of applied.endedAttempts ?? []) recordAttemptSpan(runId, applied.workflowId, attempt);
    if (applied.endedRun) recordRunSpan(applied.endedRun);
    if (applied.runEnded) {
      this.options.logger.info({ runId }, 'run ended');
      this.options.onRunEnded?.(runId);
      // A slot freed under maxActiveRuns. (A run of an unlimited version ending while a later, limited
      // version has runs waiting is rare: the periodic admission sweep admits those.)
      if (applied.endedRun?.freesSlot) await this.admit(applied.workflowId);
    }
  }

  /** Admits runs waiting for a slot of this workflow (after a run ended, and in the periodic sweep). */
  private async admit(workflowId: string): Promise<void> {
    try {
      for (const { runId, applied } of await this.applier.admitWaiting(workflowId)) {
        this.options.logger.info({ workflow: workflowId, runId }, 'waiting run admitted');
        await this.afterCommit(runId, applied);
      }
    } catch (err) {
      this.options.logger.warn({ err, workflow: workflowId }, 'admitting waiting runs failed; the sweep will retry');
    }
  }

  /** Backstop for a scheduler that died between a run's end and the admission of the next one. */
  private async sweepAdmissions(): Promise<void> {
    for (const workflowId of await listWorkflowsWithWaitingRuns(this.options.pool)) await this.admit(workflowId);
  }

  /** Stops taking events, finishes the transactions in flight, and flushes the outbox. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    await this.cron?.stop();
    await this.queuedTimeouts.stop();
    await this.lostAttempts.stop();
    await this.runTimeouts.stop();
    await this.slots.stop();
    if (this.admissionSweep) clearInterval(this.admissionSweep);
    await this.sweeping;
    await this.subscription?.drain();
    if (this.progressTicker) clearInterval(this.progressTicker);
    await this.retries.stop();
    await this.outbox.stop();
    this.state = 'stopped';
    this.options.logger.info('scheduler stopped');
  }
}
