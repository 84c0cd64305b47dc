/**
 * The message bus between Skein's services. Two implementations share this interface and one
 * conformance suite: NATS JetStream (distributed) and in-process (standalone, tests).
 *
 * Semantics (both implementations):
 * - Streams are durable logs of messages on subjects; `publish` resolves once the stream holds it.
 * - A publish with a `msgId` already seen in the stream's duplicate window is accepted and dropped.
 * - A consumer is durable and named; several `consume` calls with the same durable share the work
 *   (each message goes to one of them). Delivery is at least once: a message that is not acked within
 *   `ackWaitMs` (or is `nak`ed, or whose handler throws) is delivered again, with `deliveryCount`
 *   incremented. A handler that returns without acking leaves the message to be redelivered after
 *   `ackWaitMs`. Redeliveries go before messages not yet delivered.
 * - `working()` restarts the ack-wait clock (a long task keeps its dispatch in progress).
 * - Messages on one subject are first delivered in publish order.
 * - Work-queue streams delete a message once it is acked (or termed); limits streams keep it until
 *   the limits. On a work-queue stream, two durables may not have overlapping filter subjects
 *   (`CONSUMER_CONFLICT`): each message has exactly one reader.
 * - Core subjects (`publishCore`/`subscribeCore`) are at most once: not stored, lost when nobody
 *   listens or the connection is down.
 *
 * Errors are `BusError`s with a stable `code` (see `errors.ts`).
 */

/** The streams Skein uses. Each owns the subjects under its prefix. */
export type StreamName = 'dispatch' | 'events' | 'logs';

export interface StreamConfig {
  readonly name: StreamName;
  /** JetStream stream name. */
  readonly jetstreamName: string;
  /** Subjects the stream captures, e.g. `skein.dispatch.>`. */
  readonly subjects: string;
  /** `workqueue`: a message is removed once acked. `limits`: kept until age/size limits. */
  readonly retention: 'workqueue' | 'limits';
  /** Duplicate window for `msgId` deduplication. */
  readonly duplicateWindowMs: number;
}

export const STREAMS: Readonly<Record<StreamName, StreamConfig>> = {
  dispatch: { name: 'dispatch', jetstreamName: 'SKEIN_DISPATCH', subjects: 'skein.dispatch.>', retention: 'workqueue', duplicateWindowMs: 120_000 },
  events: { name: 'events', jetstreamName: 'SKEIN_EVENTS', subjects: 'skein.events.>', retention: 'workqueue', duplicateWindowMs: 120_000 },
  logs: { name: 'logs', jetstreamName: 'SKEIN_LOGS', subjects: 'skein.logs.>', retention: 'workqueue', duplicateWindowMs: 120_000 },
};

/** Subject helpers: the one place subject names are spelled. */
export const subjects = {
  dispatch: (queue: string) => `skein.dispatch.${queue}`,
  event: (runId: string) => `skein.events.${runId}`,
  logs: (attemptId: string) => `skein.logs.${attemptId}`,
  /** Core subject on which a log-collector says it stored lines of an attempt (for other replicas' tails). */
  logsStored: (attemptId: string) => `skein.logs-stored.${attemptId}`,
  /** Every attempt's stored-lines notices (a wildcard subscription). */
  allLogsStored: 'skein.logs-stored.>',
  /** Core (non-stream) subject for cancelling an attempt wherever it runs. */
  cancel: (attemptId: string) => `skein.cancel.${attemptId}`,
  /** Core subject of an executor's heartbeats (the attempts it runs). */
  heartbeat: (executor: string) => `skein.heartbeat.${executor.replace(/[^A-Za-z0-9_-]/g, '_')}`,
  /** Every executor's heartbeats (a wildcard subscription). */
  allHeartbeats: 'skein.heartbeat.*',
} as const;

/**
 * Header of a message on `skein.events.<run>` that holds a TaskEventBatch (several events of the run)
 * instead of one TaskEvent.
 */
export const EVENT_BATCH_HEADER = 'Skein-Event-Batch';

export type Headers = Readonly<Record<string, string>>;

export interface PublishOptions {
  /**
   * Deduplication id (JetStream `Nats-Msg-Id`). A publish retried after a lost reply is stored
   * once only with an id; without one, a retry may store the message twice.
   */
  msgId?: string;
  headers?: Headers;
}

/** A delivered message. Exactly one of ack / nak / term should be called. */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  /** Stream sequence of the message. */
  readonly sequence: number;
  /**
   * Confirms processing; resolves when the server has recorded the ack. Rejects with `ACK_FAILED`
   * when that cannot be confirmed (the message will then be redelivered).
   */
  ack(): Promise<void>;
  /**
   * Acknowledges without waiting for the server's confirmation: one message to the server and no reply
   * to wait for. For a consumer whose handling is idempotent, since an ack that is lost (the connection
   * dropped) means one more delivery.
   */
  ackNoWait(): void;
  /** Asks for redelivery, after `delayMs` when given. */
  nak(delayMs?: number): void;
  /** Restarts the ack-wait clock: the message is still being worked on. */
  working(): void;
  /** Never deliver this message again. */
  term(): void;
}

export interface ConsumeOptions {
  stream: StreamName;
  /** Durable consumer name; consumers with the same name share messages. */
  durable: string;
  /** Only messages on subjects matching this filter (NATS wildcards). @default the stream's subjects */
  filterSubject?: string;
  /** Redeliver a message not acked in this time. @default 30_000 */
  ackWaitMs?: number;
  /** At most this many unacked messages delivered to this subscriber at once. @default 1000 */
  maxInFlight?: number;
}

/**
 * The handler gets each message. A handler that throws has its message nak'ed (redelivered);
 * the subscription goes on.
 */
export type MessageHandler = (message: BusMessage) => Promise<void>;

export interface Subscription {
  /**
   * Stops taking new messages and waits for handlers in flight to finish. Messages delivered but
   * not yet started are handed back for redelivery. Idempotent.
   */
  drain(): Promise<void>;
}

export type CoreHandler = (subject: string, data: Uint8Array, headers: Headers) => void;

export interface Bus {
  /** Creates the streams (idempotent: an existing stream with the same config is left alone). */
  ensureStreams(): Promise<void>;
  /**
   * Publishes to a stream subject; resolves when stored (or recognised as a duplicate). Rejects with
   * `NO_STREAM` for a subject outside {@link STREAMS}; the NATS bus retries through an outage and
   * rejects with `PUBLISH_TIMEOUT` only after its publish deadline.
   */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<void>;
  /** Creates (or updates) the durable consumer and starts delivering to `handler`. */
  consume(options: ConsumeOptions, handler: MessageHandler): Promise<Subscription>;
  /** Fire-and-forget publish on a core subject (not stored), e.g. cancellation. */
  publishCore(subject: string, data: Uint8Array, headers?: Headers): void;
  /** Subscribes to a core subject (wildcards allowed). */
  subscribeCore(subject: string, handler: CoreHandler): Subscription;
  /**
   * How many messages `stream` holds on `subject` now: on a work-queue stream, those published and
   * not yet acked by their consumer (a log batch not yet stored). Optional, so a wrapper of a Bus may
   * leave it out; both of Skein's buses have it.
   */
  countMessages?(stream: StreamName, subject: string): Promise<number>;
  /** Drains subscriptions, flushes, and closes the connection. Idempotent. */
  close(): Promise<void>;
}
