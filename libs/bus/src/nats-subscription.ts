import {
  AckPolicy,
  DeliverPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { MessageHandler, Subscription } from './bus';
import type { ResolvedConsumeOptions } from './consume-options';
import { BusError } from './errors';
import { NatsBusMessage } from './nats-message';
import { ensureStream, jsApiCode, JsCodes } from './nats-streams';
import { runHandler } from './run-handler';

/** What a subscription needs from its bus. */
export interface NatsSubscriptionContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly logger: Logger;
  readonly replicas: number;
  readonly maxAckPending: number;
}

/** How long one pull request waits on the server before the client renews it. */
const PULL_EXPIRES_MS = 30_000;
/** Server heartbeat on an idle pull: two missed ones tell the client the pull (or consumer) is gone. */
const IDLE_HEARTBEAT_MS = 5_000;
/** Upper bound of messages requested ahead of the handlers. */
const MAX_PREFETCH = 256;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

type State = 'running' | 'draining' | 'stopped';

/**
 * One `consume()` call on the NATS bus: a durable pull consumer and a loop over nats.js
 * `consume()` that runs handlers concurrently up to `maxInFlight`.
 *
 * Flow control. nats.js sends its next pull request only when our loop asks the iterator for the
 * next message, and the loop stops asking while every slot is busy. The pull asks for up to
 * `min(maxInFlight, 256)` messages and is refilled at 75% so that one is always outstanding: a
 * message published to an idle consumer goes straight to it with no request round trip.
 *
 * A subscriber that stays saturated could sit on messages it received but cannot start (their
 * ack-wait clocks running). After `min(ackWait / 2, 5 s)` of saturation the loop stops pulling,
 * hands those messages back (`nak`, so another subscriber takes them at once) and resumes with a
 * fresh pull when a slot frees. This also keeps the heartbeat monitor quiet while no pull is open.
 *
 * Status events are signals, not failures: heartbeats missed and reconnects are logged (nats.js
 * re-pulls by itself); a deleted consumer (or stream) is recreated and consumption restarts.
 */
export class NatsSubscription implements Subscription {
  private state: State = 'running';
  private active = 0;
  /** The live iterator; unset while paused, recovering or draining (then arrivals are nak'ed). */
  private messages: ConsumerMessages | undefined;
  /** Iterators we closed on purpose (pause, recovery): their end is not a failure. */
  private readonly closedByUs = new WeakSet<ConsumerMessages>();
  /** Set by recovery: the loop switches to it when the current iterator ends. */
  private replacement: Consumer | undefined;
  private recovering = false;
  /** Waits (slot, back-off, pause) woken by a finished handler or by drain. */
  private readonly sleepers = new Set<() => void>();
  private idleWaiters: Array<() => void> = [];
  private loop: Promise<void> = Promise.resolve();
  private drained: Promise<void> | undefined;
  private readonly prefetch: number;
  private readonly saturationPauseMs: number;

  private constructor(
    private readonly ctx: NatsSubscriptionContext,
    private readonly options: ResolvedConsumeOptions,
    private readonly handler: MessageHandler,
    private readonly logger: Logger,
    private readonly onStopped: (subscription: NatsSubscription) => void,
  ) {
    this.prefetch = Math.min(options.maxInFlight, MAX_PREFETCH);
    this.saturationPauseMs = Math.min(options.ackWaitMs / 2, IDLE_HEARTBEAT_MS);
  }

  /** Creates or updates the durable consumer, then starts consuming. */
  static async start(
    ctx: NatsSubscriptionContext,
    options: ResolvedConsumeOptions,
    handler: MessageHandler,
    onStopped: (subscription: NatsSubscription) => void,
  ): Promise<NatsSubscription> {
    const logger = ctx.logger.child({ stream: options.stream.jetstreamName, durable: options.durable });
    const subscription = new NatsSubscription(ctx, options, handler, logger, onStopped);
    const info = await subscription.ensureConsumer();
    subscription.loop = subscription.run(ctx.js.consumers.getConsumerFromInfo(info));
    return subscription;
  }

  drain(): Promise<void> {
    this.drained ??= this.stop();
    return this.drained;
  }

  private async stop(): Promise<void> {
    this.state = 'draining';
    const messages = this.messages;
    this.messages = undefined;
    // Unsubscribes the pull inbox: the server drops pulls nobody listens to, so nothing new
    // arrives; what was already buffered comes through the loop, which hands it back (nak).
    if (messages) this.end(messages);
    this.wakeAll();
    await this.loop;
    await this.idle();
    this.state = 'stopped';
    this.onStopped(this);
  }

  private async run(first: Consumer): Promise<void> {
    let consumer = first;
    let failures = 0;
    while (this.state === 'running' && !this.ctx.nc.isClosed()) {
      let messages: ConsumerMessages | undefined;
      try {
        messages = await consumer.consume({ max_messages: this.prefetch, expires: PULL_EXPIRES_MS, idle_heartbeat: IDLE_HEARTBEAT_MS });
        if (this.state !== 'running') {
          this.end(messages);
          break;
        }
        this.messages = messages;
        void this.watch(messages);
        for await (const msg of messages) {
          if (this.messages !== messages) {
            // Paused, recovering or draining: hand it back so any subscriber can take it now.
            new NatsBusMessage(msg).nak();
            continue;
          }
          failures = 0;
          this.dispatch(msg);
          while (this.active >= this.options.maxInFlight && this.messages === messages) await this.waitForSlot(messages);
        }
        if (!this.closedByUs.has(messages)) failures++;
      } catch (err) {
        failures++;
        this.logger.warn({ err }, 'JetStream consume loop ended with an error; restarting it');
      }
      if (this.messages === messages) this.messages = undefined;
      if (this.replacement) {
        consumer = this.replacement;
        this.replacement = undefined;
      }
      if (failures > 0) await this.backOff(failures - 1);
      while (this.state === 'running' && this.active >= this.options.maxInFlight) await this.sleep(IDLE_HEARTBEAT_MS);
    }
  }

  private dispatch(msg: JsMsg): void {
    this.active++;
    runHandler(this.handler, new NatsBusMessage(msg), this.logger, () => this.release());
  }

  private release(): void {
    this.active--;
    if (this.sleepers.size > 0) this.wakeAll();
    if (this.active === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Closes an iterator on purpose: its buffered messages still pass through the loop (and are nak'ed). */
  private end(messages: ConsumerMessages): void {
    this.closedByUs.add(messages);
    messages.close().catch(() => undefined);
  }

  /** Waits for a handler to finish; stops pulling (see class doc) if that takes long. */
  private async waitForSlot(messages: ConsumerMessages): Promise<void> {
    const timer = setTimeout(() => {
      if (this.messages !== messages || this.active < this.options.maxInFlight) return;
      this.logger.debug({ active: this.active }, 'subscriber saturated; pausing pulls and handing back buffered messages');
      this.messages = undefined;
      this.end(messages);
      this.wakeAll();
    }, this.saturationPauseMs);
    try {
      await this.sleep();
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves after `ms` (if given), when a handler finishes, or on drain, whichever comes first. */
  private sleep(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Exponential back-off that only drain cuts short (finished handlers do not). */
  private async backOff(attempt: number): Promise<void> {
    const until = Date.now() + Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
    while (this.state === 'running' && Date.now() < until) await this.sleep(until - Date.now());
  }

  private wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  private idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Logs status events and recovers from a deleted consumer or stream. */
  private async watch(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of messages.status()) {
        switch (status.type) {
          case 'heartbeats_missed':
            this.logger.warn({ missed: status.count }, 'JetStream heartbeats missed; nats.js is re-checking the consumer');
            break;
          case 'consumer_deleted':
          case 'consumer_not_found':
          case 'stream_not_found':
            this.logger.warn({ status }, 'JetStream consumer is gone; recreating it');
            void this.recover(messages, status.type === 'stream_not_found');
            break;
          case 'exceeded_limits':
          case 'no_responders':
            this.logger.warn({ status }, 'JetStream pull request refused');
            break;
          default:
            // heartbeat, next, discard, debug: routine flow-control chatter.
            break;
        }
      }
    } catch (err) {
      this.logger.debug({ err }, 'JetStream status iterator ended');
    }
  }

  private async recover(messages: ConsumerMessages, streamGone: boolean): Promise<void> {
    if (this.recovering || this.messages !== messages) return;
    this.recovering = true;
    try {
      for (let attempt = 0; this.state === 'running' && !this.ctx.nc.isClosed(); attempt++) {
        try {
          if (streamGone) await ensureStream(this.ctx.jsm, this.options.stream, this.ctx.replicas, this.logger);
          const info = await this.ensureConsumer();
          this.replacement = this.ctx.js.consumers.getConsumerFromInfo(info);
          this.logger.info('JetStream consumer recreated; resuming');
          if (this.messages === messages) this.messages = undefined;
          this.end(messages);
          this.wakeAll();
          return;
        } catch (err) {
          streamGone ||= err instanceof BusError && err.code === 'NO_STREAM';
          this.logger.warn({ err, attempt }, 'could not recreate the JetStream consumer; retrying');
          await this.backOff(attempt);
        }
      }
    } finally {
      this.recovering = false;
    }
  }

  /** Creates the durable consumer, or updates it when a field Skein sets differs. */
  private async ensureConsumer(): Promise<ConsumerInfo> {
    const { stream, durable, filterSubject, ackWaitMs } = this.options;
    const want = {
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: this.ctx.maxAckPending,
      filter_subject: filterSubject,
    };
    try {
      let info: ConsumerInfo | undefined;
      try {
        info = await this.ctx.jsm.consumers.info(stream.jetstreamName, durable);
      } catch (err) {
        if (jsApiCode(err) !== JsCodes.ConsumerNotFound) throw err;
      }
      if (info === undefined) {
        const config: Partial<ConsumerConfig> = { ...want, durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_deliver: -1 };
        return await this.ctx.jsm.consumers.add(stream.jetstreamName, config);
      }
      const c = info.config;
      if (c.ack_wait === want.ack_wait && c.max_ack_pending === want.max_ack_pending && c.filter_subject === want.filter_subject) return info;
      this.logger.info({ ackWait: c.ack_wait, maxAckPending: c.max_ack_pending, filterSubject: c.filter_subject }, 'updating JetStream consumer configuration');
      return await this.ctx.jsm.consumers.update(stream.jetstreamName, durable, want);
    } catch (err) {
      throw consumerError(err, stream.jetstreamName, durable, filterSubject);
    }
  }
}

function consumerError(err: unknown, stream: string, durable: string, filterSubject: string): BusError {
  const code = jsApiCode(err);
  const reason = (err as Error).message;
  if (code === JsCodes.StreamNotFound) {
    return new BusError('NO_STREAM', `stream ${stream} does not exist: call bus.ensureStreams() first`, { cause: err });
  }
  if (code === JsCodes.WorkQueueFilterNotUnique || code === JsCodes.WorkQueueMultipleUnfiltered) {
    return new BusError('CONSUMER_CONFLICT', `consumer ${durable} (filter ${filterSubject}) overlaps another consumer on work-queue stream ${stream}: ${reason}`, { cause: err });
  }
  return new BusError('BROKER_ERROR', `could not create or update consumer ${durable} on ${stream}: ${reason}`, { cause: err });
}
