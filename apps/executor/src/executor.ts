import type { Logger } from 'pino';
import { subjects, type BusMessage, type Headers, type Subscription } from '@skein/bus';
import { CancelAttempt, TaskDispatch } from '@skein/proto';
import { formatDuration, type LogResumePoint, type OutputFlow, type RunningTask, type TaskLaunch, type TaskOutput, type TaskResult } from '@skein/runtime';
import { markHop } from '@skein/telemetry';
import { AttemptLog } from './attempt-log';
import { AttemptSightings } from './attempt-sightings';
import { EventBatcher } from './event-batcher';
import { ExecutorStateError } from './errors';
import type { ExecutorState } from './executor-state';
import { compileExecutorOptions, dispatchDurable, type CompiledExecutorOptions, type ExecutorOptions } from './executor-options';
import { publishLostAttempt } from './lost-attempt';
import { createRedactor } from './redactor';
import { outcomeLine, taskEvent, terminalKind, toTaskLaunch, type TaskEventKind } from './task-events';
import type { LogStoreClient, StoredLogProgress } from './log-store-client';
import { unavailableTask } from './unavailable-task';
import { Heartbeat } from './heartbeat';

/** Options of {@link Executor.stop}. */
export interface StopOptions {
  /** How long running tasks may take to finish before they are cancelled. @default 30000 */
  readonly graceMs?: number;
}

/** An attempt running here. */
interface ActiveAttempt {
  readonly dispatch: TaskDispatch;
  /** Every delivery of the dispatch seen while it runs: each is kept in progress and acked at the end. */
  readonly messages: BusMessage[];
  task: RunningTask | undefined;
  /** Set when the executor itself stopped the task (shutdown); it is then reported LOST, so retries apply. */
  lostReason: string | undefined;
}

const DONE: Promise<void> = Promise.resolve();
/** How long an adopting executor waits for the log batches published before it to be stored. */
const LOG_SETTLE_MS = 10_000;
/** Tolerated difference between the scheduler's clock (dispatch time) and this executor's. */
const CLOCK_SKEW_MS = 1000;

/**
 * Takes task dispatches from the bus, runs them on a runtime, and reports what happened: a
 * `started` event, every line of output (numbered, redacted, batched) and a terminal event, and
 * only then acks the dispatch — so a dispatch whose outcome was not recorded comes back. Stateless:
 * everything it knows is in the messages it holds.
 */
export class Executor {
  private readonly options: CompiledExecutorOptions;
  private readonly logger: Logger;
  /** Task events, gathered per run while a publish to the run's subject is in flight. */
  private readonly events: EventBatcher;
  private current: ExecutorState = 'idle';
  private readonly active = new Map<string, ActiveAttempt>();
  private heartbeat: Heartbeat | undefined;
  /** When each attempt was last named in an executor's heartbeat: whether a redelivered dispatch may still run elsewhere. */
  private readonly sightings: AttemptSightings;
  /** attempt id → reason, for a cancel that arrived before its dispatch. Oldest first. */
  private readonly recentCancels = new Map<string, string>();
  private readonly dispatchSubscriptions: Subscription[] = [];
  private cancelSubscription: Subscription | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Releases waiting for the log store to hold an attempt's whole log (awaited on stop). */
  private readonly releasing = new Set<Promise<void>>();

  constructor(options: ExecutorOptions) {
    this.options = compileExecutorOptions(options);
    this.logger = this.options.logger;
    this.events = new EventBatcher(this.options.bus, this.options.publishRetry);
    this.sightings = new AttemptSightings(this.options.bus, this.logger);
  }

  get state(): ExecutorState {
    return this.current;
  }

  /** This executor's name in events and logs. */
  get identity(): string {
    return this.options.identity;
  }

  /** How many attempts are running here now (noop tasks never count: they end at once). */
  get activeCount(): number {
    return this.active.size;
  }

  /** Subscribes to cancellations and starts taking dispatches from every queue. */
  start(): Promise<void> {
    if (this.current !== 'idle') return Promise.reject(new ExecutorStateError(`start() needs an idle executor; this one is ${this.current}`));
    this.setState('starting');
    this.starting = this.subscribe();
    return this.starting;
  }

  /** Stops taking dispatches, lets running tasks finish for up to `graceMs`, then cancels them. Idempotent. */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.graceMs ?? 30_000);
    return this.stopping;
  }

  private async subscribe(): Promise<void> {
    const { bus, queues, capacity, ackWaitMs, identity } = this.options;
    try {
      await bus.ensureStreams();
      this.sightings.start();
      this.cancelSubscription = bus.subscribeCore(subjects.cancel('*'), this.onCancel);
      for (const queue of queues) {
        this.dispatchSubscriptions.push(await bus.consume(
          { stream: 'dispatch', durable: dispatchDurable(queue), filterSubject: subjects.dispatch(queue), ackWaitMs, maxInFlight: capacity },
          this.onDispatch,
        ));
      }
    } catch (err) {
      await this.unsubscribe();
      this.setState('stopped');
      throw err;
    }
    this.ticker = setInterval(this.tick, Math.floor(ackWaitMs / 3));
    this.heartbeat = new Heartbeat(bus, identity, () => this.active.keys(), this.options.heartbeatMs);
    this.heartbeat.start();
    this.setState('running');
    this.logger.info({ identity, queues, capacity, runtimes: [...this.options.runtimes.keys()] }, 'executor started');
  }

  private async shutdown(graceMs: number): Promise<void> {
    if (this.current === 'idle') {
      this.setState('stopped');
      return;
    }
    await this.starting?.catch(() => undefined);
    if (this.current === 'stopped') return;
    this.setState('stopping');
    this.logger.info({ graceMs, active: this.active.size }, 'executor stopping: taking no more dispatches');
    const drained = Promise.all(this.dispatchSubscriptions.map((s) => s.drain()));
    this.setState('draining');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); }),
    ]);
    clearTimeout(timer);
    if (graceOver && this.active.size > 0) {
      this.logger.warn({ active: this.active.size, graceMs }, 'shutdown grace elapsed: cancelling the tasks still running');
      const reason = `executor ${this.options.identity} stopped (its shutdown grace of ${formatDuration(graceMs)} elapsed) before the task ended`;
      for (const attempt of this.active.values()) {
        attempt.lostReason = reason;
        attempt.task?.cancel('executor shutting down');
      }
    }
    await drained;
    await Promise.all(this.releasing);
    await this.unsubscribe();
    this.setState('stopped');
    this.logger.info('executor stopped');
  }

  private setState(state: ExecutorState): void {
    this.current = state;
    try {
      this.options.onStateChange?.(state);
    } catch (err) {
      this.logger.warn({ err, state }, 'onStateChange threw');
    }
  }

  private async unsubscribe(): Promise<void> {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.heartbeat?.stop();
    this.ticker = undefined;
    const subscriptions = [...this.dispatchSubscriptions, ...(this.cancelSubscription ? [this.cancelSubscription] : [])];
    this.dispatchSubscriptions.length = 0;
    this.cancelSubscription = undefined;
    await Promise.all([
      ...subscriptions.map((s) => s.drain().catch((err: unknown) => this.logger.warn({ err }, 'subscription drain failed'))),
      this.sightings.stop().catch((err: unknown) => this.logger.warn({ err }, 'heartbeat subscription drain failed')),
    ]);
  }

  /** The handler of every dispatch. Not async itself, so a duplicate costs no promise. */
  private readonly onDispatch = (message: BusMessage): Promise<void> => {
    markHop('executor.dispatch-received');
    let dispatch: TaskDispatch;
    try {
      dispatch = TaskDispatch.decode(message.data);
    } catch (err) {
      this.logger.error({ err, subject: message.subject }, 'undecodable dispatch dropped');
      message.term();
      return DONE;
    }
    const running = this.active.get(dispatch.attemptId);
    if (running !== undefined) {
      // Delivered again while it runs here (the ack deadline passed in a stall): keep it going, ack it too.
      running.messages.push(message);
      return DONE;
    }
    const runtime = dispatch.runtime === '' ? this.options.defaultRuntime : this.options.runtimes.get(dispatch.runtime);
    if (runtime === undefined) return this.runAttempt(message, dispatch, unavailableTask(this.unknownRuntimeMessage(dispatch.runtime)));
    if (runtime.runInline !== undefined) return this.finishInline(message, dispatch, runtime.runInline(toTaskLaunch(dispatch, false)));
    // A runtime that adopts (kubernetes: the Job outlives its executor) re-attaches instead.
    if (!runtime.adoptsOnRedelivery && message.deliveryCount > 1 && !this.handedBackUnstarted(dispatch)) {
      const mayRunForMs = this.mayRunElsewhereForMs(dispatch.attemptId);
      if (mayRunForMs <= 0) return this.reportLost(message, dispatch);
      this.logger.debug({ attemptId: dispatch.attemptId, deliveryCount: message.deliveryCount, mayRunForMs }, 'a redelivered dispatch may still run elsewhere: handed back');
      message.nak(mayRunForMs);
      return DONE;
    }
    return this.runAttempt(message, dispatch, (launch, onOutput, flow) => runtime.launch(launch, onOutput, flow), runtime.adoptsOnRedelivery === true);
  };

  /** The fast path of an inline runtime (noop): no started event, no log, one terminal event, ack. */
  private async finishInline(message: BusMessage, dispatch: TaskDispatch, result: TaskResult): Promise<void> {
    const redact = result.ok ? noRedaction : createRedactor(dispatch.env);
    try {
      markHop('executor.event-publishing');
      await this.publishEvent(dispatch, terminalKind(result, redact), ':end');
    } catch (err) {
      this.giveBack([message], dispatch, err);
      return;
    }
    this.ack(message);
  }

  private async runAttempt(
    message: BusMessage,
    dispatch: TaskDispatch,
    launch: (task: TaskLaunch, onOutput: (line: TaskOutput) => void, flow?: OutputFlow) => RunningTask,
    adopts = false,
  ): Promise<void> {
    const { attemptId } = dispatch;
    const attempt: ActiveAttempt = { dispatch, messages: [message], task: undefined, lostReason: undefined };
    this.active.set(attemptId, attempt);
    try {
      const { bus, identity, logBatch, publishRetry } = this.options;
      let stored: StoredLogProgress | undefined;
      if (adopts && message.deliveryCount > 1 && this.options.logStore !== undefined) {
        // A redelivery may find the task still running (a Job outlives its executor): its log goes
        // on where the store's ends, numbered on from the last stored line, its size cap part used.
        try {
          stored = await this.storedLogProgress(this.options.logStore, attemptId);
        } catch (err) {
          this.logger.warn({ err, attemptId }, 'the log store did not say where the attempt\'s log ends; its dispatch will come back');
          message.nak(Math.min(this.options.ackWaitMs, 5000));
          return;
        }
      }
      const redact = createRedactor(dispatch.env);
      const log = new AttemptLog(bus, dispatch, redact, logBatch, publishRetry, this.logger, stored?.lastSequence ?? 0, stored?.outputBytes ?? 0);
      log.append('system', `attempt ${dispatch.attempt} started on executor ${identity}`, new Date());
      const resume: LogResumePoint | undefined = stored?.lastOutputTime && { afterTime: stored.lastOutputTime, linesAtTime: stored.outputLinesAtLastTime };
      // The log is the output's flow: a local task blocks on its pipe while publishing lags.
      markHop('executor.launching');
      const task = launchSafely(launch, dispatch, (line) => log.append(line.stream, line.text, line.time), log, resume);
      attempt.task = task;
      const cancelled = this.recentCancels.get(attemptId);
      if (cancelled !== undefined) {
        this.recentCancels.delete(attemptId);
        task.cancel(cancelled);
      }
      const started = this.reportStarted(dispatch, task);
      let result = await task.result;
      markHop('executor.task-exited');
      const startedSent = started.taskEnded();
      if (attempt.lostReason !== undefined && result.reason === 'CANCELLED') {
        result = { ...result, reason: 'LOST', message: attempt.lostReason };
      }
      log.append('system', outcomeLine(result), new Date());
      // The final log batch and the outcome go out together, not one after the other (one round trip
      // less per task than publishing the outcome after the log's acknowledgement); both are
      // acknowledged before the dispatch is acked.
      const logClosed = log.close().then(
        // The final batch's publish is acknowledged: the runtime may drop what it kept for the log (the
        // kubernetes Job) once the store holds every line. Not on failure: the sweep does.
        (count) => this.releaseWhenStored(task, dispatch, count),
        // Already logged by AttemptLog. The outcome matters more than the log: it is reported anyway.
        () => undefined,
      );
      await startedSent;
      markHop('executor.event-publishing');
      await Promise.all([this.publishEvent(dispatch, terminalKind(result, redact), ':end'), logClosed]);
    } catch (err) {
      this.giveBack(attempt.messages, dispatch, err);
      return;
    } finally {
      this.active.delete(attemptId);
    }
    for (const delivery of attempt.messages) this.ack(delivery);
  }

  /**
   * Where the attempt's stored log ends. The log store can only answer for batches it has stored, so
   * first the batches the attempt's previous executor published and the collector has not stored yet
   * (the logs stream is a work queue: a batch leaves it once stored) must be gone: waits up to
   * {@link LOG_SETTLE_MS} for that, and rejects if they are not.
   */
  private async storedLogProgress(logStore: LogStoreClient, attemptId: string): Promise<StoredLogProgress> {
    const { bus } = this.options;
    if (bus.countMessages !== undefined) {
      const subject = subjects.logs(attemptId);
      const until = Date.now() + LOG_SETTLE_MS;
      for (let pauseMs = 20; (await bus.countMessages('logs', subject)) > 0; pauseMs = Math.min(500, pauseMs * 2)) {
        if (Date.now() + pauseMs > until) throw new Error(`log batches of attempt ${attemptId} published before were still not stored after ${LOG_SETTLE_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
    return logStore.progress(attemptId, { withOutputBytes: true });
  }

  /**
   * Lets the runtime drop what it kept for the attempt's log (the kubernetes Job), once the log store
   * holds all `count` lines — asked of the log collector, for up to `logStoredWaitMs`; a log it does
   * not confirm in time leaves the Job to the periodic sweep. Without a log store, at once (the final
   * batch's publish was acknowledged). The outcome is not held up by this wait.
   */
  private releaseWhenStored(task: RunningTask, dispatch: TaskDispatch, count: number): void {
    const release = task.release?.bind(task);
    if (release === undefined) return;
    const { logStore, logStoredWaitMs } = this.options;
    if (logStore === undefined) {
      release();
      return;
    }
    const waiting: Promise<void> = logStore.waitUntilStored(dispatch.attemptId, count, logStoredWaitMs).then((stored) => {
      if (stored) release();
      else this.logger.warn({ attemptId: dispatch.attemptId, lines: count, waitedMs: logStoredWaitMs }, 'the log store did not confirm the attempt\'s whole log; its Job is left to the sweep');
    }).finally(() => this.releasing.delete(waiting));
    this.releasing.add(waiting);
  }

  /**
   * Publishes the task's `started` event once it has run for `startedGraceMs`; a task that ends
   * sooner has none (its end event carries the start time). `taskEnded()` cancels a report not yet
   * due and returns the publish in flight, if any, which must finish before the end event is sent.
   */
  private reportStarted(dispatch: TaskDispatch, task: RunningTask): { taskEnded: () => Promise<void> } {
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    let sent: Promise<void> = Promise.resolve();
    const publish = (startTime: Date) => {
      timer = undefined;
      sent = this.publishEvent(dispatch, { $case: 'started', started: { startTime } }, ':started').catch((err: unknown) => {
        // The terminal event still tells the scheduler everything; a lost `started` only delays its view.
        this.logger.warn({ err, attemptId: dispatch.attemptId }, 'the started event could not be published');
      });
    };
    const scheduled = task.started.then((startTime) => {
      if (this.options.startedGraceMs <= 0) publish(startTime);
      else if (!ended) timer = setTimeout(() => publish(startTime), this.options.startedGraceMs);
    }, () => undefined);
    return {
      taskEnded: async () => {
        ended = true;
        await scheduled;
        if (timer !== undefined) clearTimeout(timer);
        await sent;
      },
    };
  }

  /**
   * The outcome could not be published (the bus stayed unavailable through every retry): hands the
   * dispatch back to come again after the ack wait — late enough to be recognised as lost, since this
   * executor no longer holds the task — instead of acking an outcome nobody recorded.
   */
  private giveBack(messages: readonly BusMessage[], dispatch: TaskDispatch, err: unknown): void {
    this.logger.error({ err, attemptId: dispatch.attemptId, runId: dispatch.runId }, 'the outcome of an attempt could not be published; its dispatch will come back');
    for (const message of messages) message.nak(this.options.ackWaitMs);
  }

  /**
   * Whether a redelivered dispatch was handed back before it ever started: the broker brings back the
   * dispatch of an executor that stopped answering only after the ack wait, so one that returns sooner
   * after it was dispatched was given back unstarted (a subscriber returning prefetched messages) and
   * simply runs.
   */
  private handedBackUnstarted(dispatch: TaskDispatch): boolean {
    const dispatched = dispatch.dispatchTime?.getTime();
    return dispatched !== undefined && Date.now() - dispatched < this.options.ackWaitMs - CLOCK_SKEW_MS;
  }

  /**
   * How much longer the attempt of a redelivered dispatch may still be running on another executor,
   * one cut off from the broker for a while: until `lostAfterMs` has passed since a heartbeat last
   * named the attempt, or since this executor began to listen (before that it cannot know). 0: no
   * executor runs it, and the scheduler is told it was lost — it alone knows whether the attempt
   * started (LOST, the retry policy applies) or not (dispatched again without using a retry).
   */
  private mayRunElsewhereForMs(attemptId: string): number {
    const now = Date.now();
    const lastSign = Math.max(this.sightings.lastSeenAt(attemptId) ?? 0, now - this.sightings.listeningForMs());
    return Math.max(0, lastSign + this.options.lostAfterMs - now);
  }

  /** A redelivered dispatch whose process died with the executor that ran it. */
  private async reportLost(message: BusMessage, dispatch: TaskDispatch): Promise<void> {
    try {
      await publishLostAttempt(this.options, dispatch, message.deliveryCount, this.headers(dispatch));
    } catch (err) {
      this.giveBack([message], dispatch, err);
      return;
    }
    this.ack(message);
  }

  private publishEvent(dispatch: TaskDispatch, kind: TaskEventKind, suffix: ':started' | ':end'): Promise<void> {
    const event = taskEvent(dispatch, this.options.identity, kind);
    return this.events.publish(subjects.event(dispatch.runId), event, dispatch.attemptId + suffix, this.headers(dispatch));
  }

  private headers(dispatch: TaskDispatch): Headers | undefined {
    return dispatch.traceparent ? { traceparent: dispatch.traceparent } : undefined;
  }

  /**
   * Acks a dispatch whose outcome is published, without waiting for the server's confirmation: an ack
   * lost with the connection brings the dispatch back, it is reported again, and the scheduler ignores
   * events of an attempt that already ended.
   */
  private ack(message: BusMessage): void {
    message.ackNoWait();
  }

  private readonly onCancel = (subject: string, data: Uint8Array): void => {
    let cancel: CancelAttempt;
    try {
      cancel = CancelAttempt.decode(data);
    } catch (err) {
      this.logger.warn({ err, subject }, 'undecodable cancel ignored');
      return;
    }
    const attemptId = cancel.attemptId || subject.slice(subject.lastIndexOf('.') + 1);
    const reason = cancel.reason || 'cancelled';
    const attempt = this.active.get(attemptId);
    if (attempt?.task !== undefined) {
      this.logger.info({ attemptId, reason }, 'cancelling attempt');
      attempt.task.cancel(reason);
      return;
    }
    // Not here (yet): remember it in case the dispatch is still on its way.
    this.recentCancels.set(attemptId, reason);
    if (this.recentCancels.size > this.options.rememberCancels) {
      const oldest = this.recentCancels.keys().next();
      if (!oldest.done) this.recentCancels.delete(oldest.value);
    }
  };

  /**
   * Keeps every running task's dispatch in progress, so it is not redelivered while it runs, names
   * attempts started since the last heartbeat without waiting for the next one, and forgets heartbeat
   * sightings too old to matter.
   */
  private readonly tick = (): void => {
    for (const attempt of this.active.values()) {
      for (const message of attempt.messages) message.working();
    }
    this.heartbeat?.beatIfNew();
    this.sightings.forgetOlderThan(this.options.lostAfterMs);
  };

  private unknownRuntimeMessage(name: string): string {
    return `runtime "${name}" is not offered by executor ${this.options.identity} (it offers ${[...this.options.runtimes.keys()].join(', ')}): ` +
      'route the task to a queue whose executors have it';
  }
}

const noRedaction = (text: string): string => text;

/**
 * Calls a runtime's launch; a runtime that throws (a bug), or a dispatch whose kubernetes settings do
 * not parse, becomes a task that failed to start.
 */
function launchSafely(
  launch: (task: TaskLaunch, onOutput: (line: TaskOutput) => void, flow?: OutputFlow) => RunningTask,
  dispatch: TaskDispatch,
  onOutput: (line: TaskOutput) => void,
  flow: OutputFlow,
  resumeLog?: LogResumePoint,
): RunningTask {
  let task: TaskLaunch | undefined;
  try {
    task = { ...toTaskLaunch(dispatch), ...(resumeLog && { resumeLog }) };
    return launch(task, onOutput, flow);
  } catch (err) {
    return unavailableTask(`the runtime could not launch the task: ${(err as Error).message}`)(task ?? toTaskLaunch(dispatch, false), onOutput);
  }
}
