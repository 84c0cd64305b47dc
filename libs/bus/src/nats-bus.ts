import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import {
  connect,
  errors as natsErrors,
  type NatsConnection,
  type Subscription as NatsCoreSubscription,
} from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { STREAMS, type Bus, type ConsumeOptions, type CoreHandler, type Headers, type MessageHandler, type PublishOptions, type StreamConfig, type StreamName, type Subscription } from './bus';
import { ConnectionGate, ConnectionLostError } from './connection-gate';
import { checkCoreSubject, resolveConsumeOptions, streamForPublish } from './consume-options';
import { BusError } from './errors';
import { fromMsgHdrs, toMsgHdrs, toPublishHdrs } from './nats-message';
import { ensureJetStreamStreams, jsApiCode, JsCodes } from './nats-streams';
import { NatsSubscription } from './nats-subscription';
import { NoRespondersError, PubAckMux, PubAckMuxClosedError, PubAckTimeoutError } from './pub-ack-mux';

/** Options of {@link createNatsBus}. */
export interface NatsBusOptions {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** Connection name shown by the server (`nats server report connections`), e.g. `skein-executor`. */
  name: string;
  logger: Logger;
  /** Stream replicas (JetStream cluster size to replicate to). @default 1 */
  replicas?: number;
  /** How long a publish keeps retrying through an outage before failing with `PUBLISH_TIMEOUT`. @default 30_000 */
  publishTimeoutMs?: number;
  /** Per-attempt wait for a PubAck (and for management requests). @default 5_000 */
  requestTimeoutMs?: number;
  /** Unacked messages a durable consumer may have across all its subscribers. @default 10_000 */
  maxAckPending?: number;
  /** Pause between reconnect attempts (plus up to 100 ms jitter). Reconnection never gives up. @default 250 */
  reconnectTimeWaitMs?: number;
  /** `close()` waits this long for the connection to drain, then closes it anyway. @default 10_000 */
  closeTimeoutMs?: number;
}

const PUBLISH_RETRY_MIN_MS = 50;
const PUBLISH_RETRY_MAX_MS = 1_000;
/** The PubAck timeout sweep runs this often at most; a timeout may fire up to one period late. */
const PUBLISH_SWEEP_MAX_MS = 100;

/**
 * Connects to NATS and returns a {@link Bus} on JetStream. Fails with `CONNECTION_FAILED` when no
 * server answers; once connected, it reconnects forever, and consumers and publishes carry on
 * across a server restart.
 */
export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new BusError('INVALID_ARGUMENT', `replicas must be an integer from 1 to 5 (JetStream's limit), got ${replicas}`);
  }
  const logger = options.logger.child({ component: 'nats-bus' });
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
      reconnectJitter: 100,
      pingInterval: 10_000,
      maxPingOut: 3,
      // Async stack traces cost an Error allocation per request; this is the hot path.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new BusError('CONNECTION_FAILED', `could not connect to NATS at ${String(options.servers)}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const timeout = options.requestTimeoutMs ?? 5_000;
    const js = jetstream(nc, { timeout });
    // checkAPI: false skips an account-info round trip; ensureStreams() finds out soon enough.
    const jsm = await jetstreamManager(nc, { timeout, checkAPI: false });
    return new NatsBus(nc, js, jsm, logger, options);
  } catch (err) {
    await nc.close();
    throw new BusError('CONNECTION_FAILED', `could not set up JetStream on ${String(options.servers)}: ${(err as Error).message}`, { cause: err });
  }
}

/** The {@link Bus} on NATS. Exported for tests only: use {@link createNatsBus}. */
export class NatsBus implements Bus {
  private closing: Promise<void> | undefined;
  private readonly subscriptions = new Set<NatsSubscription>();
  private readonly coreSubscriptions = new Set<NatsCoreSubscription>();
  private readonly replicas: number;
  private readonly publishTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxAckPending: number;
  private readonly statusLoop: Promise<void>;
  private readonly gate = new ConnectionGate();
  private readonly pubAcks: PubAckMux;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly logger: Logger,
    private readonly options: NatsBusOptions,
  ) {
    this.replicas = options.replicas ?? 1;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.maxAckPending = options.maxAckPending ?? 10_000;
    this.pubAcks = new PubAckMux(nc, Math.min(PUBLISH_SWEEP_MAX_MS, Math.max(1, Math.floor(this.requestTimeoutMs / 4))));
    this.statusLoop = this.logStatus();
  }

  async ensureStreams(): Promise<void> {
    this.assertOpen();
    await ensureJetStreamStreams(this.jsm, this.replicas, this.logger);
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    this.assertOpen();
    const stream = streamForPublish(subject);
    const headers = toPublishHdrs(options.headers, options.msgId);
    const deadline = Date.now() + this.publishTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!this.gate.connected) await this.gate.waitUntilConnected(deadline);
        // A duplicate PubAck (msgId seen within the window) is a success: the stream holds it.
        const acked = this.pubAcks.request(subject, data, headers, Math.max(1, Math.min(this.requestTimeoutMs, deadline - Date.now())));
        // A request out when the connection drops gets no reply: retry after the reconnect
        // (same msgId, so a copy that did reach the stream is deduplicated).
        await this.gate.whileConnected(acked);
        return;
      } catch (err) {
        await this.beforePublishRetry(err, subject, stream, attempt, deadline);
      }
    }
  }

  /** Throws when `err` ends the publish; otherwise waits out the back-off before the next attempt. */
  private async beforePublishRetry(err: unknown, subject: string, stream: StreamConfig, attempt: number, deadline: number): Promise<void> {
    if (
      this.nc.isClosed() ||
      err instanceof natsErrors.ClosedConnectionError ||
      err instanceof natsErrors.DrainingConnectionError ||
      err instanceof PubAckMuxClosedError
    ) {
      throw new BusError('BUS_CLOSED', `publish to ${subject} failed: the bus is closed`, { cause: err });
    }
    const noResponders = err instanceof NoRespondersError;
    const retryable =
      noResponders ||
      err instanceof ConnectionLostError ||
      err instanceof PubAckTimeoutError ||
      err instanceof natsErrors.ConnectionError ||
      (jsApiCode(err) !== undefined && isUnavailable(err));
    if (!retryable) {
      throw new BusError('PUBLISH_REJECTED', `stream ${stream.jetstreamName} refused the publish to ${subject}: ${(err as Error).message}`, { cause: err });
    }
    // "No responders" is also what a missing stream looks like; do not wait out the deadline for that.
    if (noResponders && (await this.streamMissing(stream))) {
      throw new BusError('NO_STREAM', `stream ${stream.jetstreamName} does not exist: call bus.ensureStreams() first`, { cause: err });
    }
    const pause = Math.min(PUBLISH_RETRY_MAX_MS, PUBLISH_RETRY_MIN_MS * 2 ** attempt);
    if (Date.now() + pause >= deadline) {
      throw new BusError('PUBLISH_TIMEOUT', `publish to ${subject} was not confirmed within ${this.publishTimeoutMs} ms: ${(err as Error).message}`, { cause: err });
    }
    this.logger.debug({ err, subject, attempt }, 'publish not confirmed yet; retrying');
    await new Promise((resolve) => setTimeout(resolve, pause));
  }

  /** PubAcks awaited now (for tests: none should linger once publishes settle). */
  get pendingPublishes(): number {
    return this.pubAcks.pendingCount;
  }

  /** Whether the PubAck timeout sweep is armed (for tests: it stops once nothing is pending). */
  get publishSweepActive(): boolean {
    return this.pubAcks.sweeping;
  }

  async countMessages(stream: StreamName, subject: string): Promise<number> {
    this.assertOpen();
    const info = await this.jsm.streams.info(STREAMS[stream].jetstreamName, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  private async streamMissing(stream: StreamConfig): Promise<boolean> {
    try {
      await this.jsm.streams.info(stream.jetstreamName);
      return false;
    } catch (err) {
      return jsApiCode(err) === JsCodes.StreamNotFound;
    }
  }

  async consume(options: ConsumeOptions, handler: MessageHandler): Promise<Subscription> {
    this.assertOpen();
    const resolved = resolveConsumeOptions(options);
    const subscription = await NatsSubscription.start(
      { nc: this.nc, js: this.js, jsm: this.jsm, logger: this.logger, replicas: this.replicas, maxAckPending: this.maxAckPending },
      resolved,
      handler,
      (s) => this.subscriptions.delete(s),
    );
    this.subscriptions.add(subscription);
    if (this.closing) void subscription.drain();
    return subscription;
  }

  publishCore(subject: string, data: Uint8Array, headers?: Headers): void {
    this.assertOpen();
    checkCoreSubject(subject, false);
    this.nc.publish(subject, data, { headers: toMsgHdrs(headers) });
  }

  subscribeCore(subject: string, handler: CoreHandler): Subscription {
    this.assertOpen();
    checkCoreSubject(subject, true);
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.logger.warn({ err, subject }, 'core subscription error');
          return;
        }
        try {
          handler(msg.subject, msg.data, fromMsgHdrs(msg.headers));
        } catch (handlerErr) {
          this.logger.error({ err: handlerErr, subject: msg.subject }, 'core message handler threw');
        }
      },
    });
    this.coreSubscriptions.add(sub);
    let drained: Promise<void> | undefined;
    return {
      drain: () => {
        drained ??= (async () => {
          try {
            if (!sub.isClosed() && !this.nc.isClosed()) await sub.drain();
          } catch (err) {
            this.logger.debug({ err, subject }, 'core subscription drain failed; it is closed anyway');
          } finally {
            this.coreSubscriptions.delete(sub);
          }
        })();
        return drained;
      },
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((s) => s.drain()));
    const closeTimeoutMs = this.options.closeTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      // While disconnected there is nothing to flush, and drain would only wait for a reconnect.
      if (!this.gate.connected) throw new Error('disconnected from NATS at close');
      // drain() flushes outstanding publishes and core subscriptions, then closes.
      await Promise.race([
        this.nc.drain(),
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`NATS drain took longer than ${closeTimeoutMs} ms`)), closeTimeoutMs);
        }),
      ]);
    } catch (err) {
      this.logger.warn({ err }, 'NATS connection did not drain cleanly; closing it');
    } finally {
      clearTimeout(timer);
      if (!this.nc.isClosed()) await this.nc.close();
      this.pubAcks.close();
    }
    this.coreSubscriptions.clear();
    await this.statusLoop;
  }

  private assertOpen(): void {
    if (this.closing || this.nc.isClosed()) throw new BusError('BUS_CLOSED', 'the bus is closed');
  }

  /** Connection events are logged and survived: nats.js reconnects and re-subscribes by itself. */
  private async logStatus(): Promise<void> {
    try {
      for await (const status of this.nc.status()) {
        switch (status.type) {
          case 'disconnect':
            this.gate.disconnected();
            this.pubAcks.failAll(new ConnectionLostError());
            this.logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
            break;
          case 'reconnect':
            this.gate.reconnectedNow();
            this.logger.info({ server: status.server }, 'reconnected to NATS');
            break;
          case 'error':
            this.logger.error({ err: status.error }, 'NATS connection error');
            break;
          case 'ldm':
            this.logger.warn({ server: status.server }, 'NATS server entering lame duck mode');
            break;
          case 'slowConsumer':
            this.logger.warn({ subject: status.sub.getSubject(), pending: status.pending }, 'NATS slow consumer: messages dropped');
            break;
          case 'staleConnection':
            this.logger.warn('NATS connection stale; reconnecting');
            break;
          default:
            break;
        }
      }
    } catch (err) {
      this.logger.debug({ err }, 'NATS status iterator ended');
    } finally {
      this.gate.close();
      this.pubAcks.close();
    }
  }
}

function isUnavailable(err: unknown): boolean {
  // 503: "JetStream system temporarily unavailable" (e.g. right after a restart, before recovery).
  return (err as { status?: number }).status === 503;
}
