import pino, { type Logger } from 'pino';
import { STREAMS, type Bus, type ConsumeOptions, type CoreHandler, type Headers, type MessageHandler, type PublishOptions, type StreamName, type Subscription } from './bus';
import { checkCoreSubject, resolveConsumeOptions, streamForPublish } from './consume-options';
import { CoreRouter } from './core-router';
import { BusError } from './errors';
import { MemoryConsumer } from './memory-consumer';
import { MemoryStream } from './memory-stream';

/** Options of {@link createInProcessBus}. */
export interface InProcessBusOptions {
  /** @default a disabled logger */
  logger?: Logger;
  /** Clock for duplicate windows, in ms. @default Date.now */
  now?: () => number;
}

const EMPTY_HEADERS: Headers = Object.freeze({});

/**
 * A {@link Bus} in memory, for `skein standalone` and tests: the same streams, work-queue retention,
 * `msgId` dedup window, durable consumers shared by subscribers, ack wait and redelivery,
 * nak / working / term, per-subject order, drain and core pub/sub with wildcards as the NATS bus —
 * checked by the same conformance suite. Nothing survives the process (standalone persists state
 * in PostgreSQL, and the outbox re-publishes what was not acked). No timer keeps the process alive.
 */
export function createInProcessBus(options: InProcessBusOptions = {}): Bus {
  return new InProcessBus(options.logger ?? pino({ enabled: false }), options.now ?? Date.now);
}

class InProcessBus implements Bus {
  private readonly streams = new Map<StreamName, MemoryStream>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly core: CoreRouter;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.core = new CoreRouter(logger);
  }

  ensureStreams(): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    for (const config of Object.values(STREAMS)) {
      if (!this.streams.has(config.name)) this.streams.set(config.name, new MemoryStream(config));
    }
    return Promise.resolve();
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    try {
      if (this.closing) throw closedError();
      const stream = this.requireStream(streamForPublish(subject).name);
      // Copy like the wire would: the caller may reuse its buffer once publish returns.
      const headers = options.headers ? Object.freeze({ ...options.headers }) : EMPTY_HEADERS;
      stream.append(subject, data.slice(), headers, options.msgId, this.now());
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  async consume(options: ConsumeOptions, handler: MessageHandler): Promise<Subscription> {
    if (this.closing) throw closedError();
    const resolved = resolveConsumeOptions(options);
    const stream = this.requireStream(resolved.stream.name);
    stream.checkFilter(resolved.durable, resolved.filterSubject);
    let consumer = stream.consumers.get(resolved.durable);
    if (consumer) {
      consumer.reconfigure(resolved.filterSubject, resolved.ackWaitMs);
    } else {
      consumer = new MemoryConsumer(stream, resolved.durable, resolved.filterSubject, resolved.ackWaitMs, this.logger.child({ durable: resolved.durable }));
      stream.consumers.set(resolved.durable, consumer);
    }
    const subscription = consumer.subscribe(handler, resolved.maxInFlight, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(subscription);
    return subscription;
  }

  publishCore(subject: string, data: Uint8Array, headers?: Headers): void {
    if (this.closing) throw closedError();
    checkCoreSubject(subject, false);
    this.core.publish(subject, data.slice(), headers ? Object.freeze({ ...headers }) : EMPTY_HEADERS);
  }

  subscribeCore(subject: string, handler: CoreHandler): Subscription {
    if (this.closing) throw closedError();
    checkCoreSubject(subject, true);
    return this.core.subscribe(subject, handler);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.drain()));
    await Promise.all(this.core.all().map((s) => s.drain()));
    for (const stream of this.streams.values()) {
      for (const consumer of stream.consumers.values()) consumer.close();
    }
  }

  async countMessages(stream: StreamName, subject: string): Promise<number> {
    if (this.closing) throw closedError();
    return this.requireStream(stream).sequencesMatching(subject).length;
  }

  private requireStream(name: StreamName): MemoryStream {
    const stream = this.streams.get(name);
    if (!stream) throw new BusError('NO_STREAM', `stream ${STREAMS[name].jetstreamName} does not exist: call bus.ensureStreams() first`);
    return stream;
  }
}

function closedError(): BusError {
  return new BusError('BUS_CLOSED', 'the bus is closed');
}
