import { JetStreamApiCodes, JetStreamApiError, type ApiError, type PubAck } from '@nats-io/jetstream';
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/**
 * The publish reached no one: no stream captures its subject, or JetStream is not (yet) up.
 * Raised (internally) for a "503 no responders" reply and for "JetStream not enabled".
 */
export class NoRespondersError extends Error {
  override readonly name = 'NoRespondersError';

  constructor(options?: { cause?: unknown }) {
    super('no responders: no stream captures the subject, or JetStream is not available', options);
  }
}

/** Raised (internally) when no PubAck arrived within the request's timeout. Retryable. */
export class PubAckTimeoutError extends Error {
  override readonly name = 'PubAckTimeoutError';

  constructor(timeoutMs: number) {
    super(`no PubAck within ${timeoutMs} ms`);
  }
}

/** Raised (internally) for requests still waiting when the bus closes. */
export class PubAckMuxClosedError extends Error {
  override readonly name = 'PubAckMuxClosedError';

  constructor() {
    super('the bus closed before the PubAck arrived');
  }
}

interface PendingPubAck {
  resolve: () => void;
  reject: (err: Error) => void;
  /** Epoch ms after which the sweep fails the request. */
  expires: number;
  timeoutMs: number;
}

type PubAckReply = Partial<PubAck> & { error?: ApiError };

/**
 * JetStream publishes as requests over one wildcard inbox subscription, resolved on the PubAck.
 *
 * nats.js does the same per request but, on every success, allocates a "cancelled" RequestError
 * (with its captured stack) and arms and clears a timer; on the scheduler's hot path that cost
 * several per cent of its CPU. Here a request is one map entry, and timeouts come from one sweep
 * that runs only while requests are pending (precision: one sweep period). Every way a request
 * settles (reply, timeout, {@link failAll}, {@link close}) removes its entry.
 */
export class PubAckMux {
  private readonly pending = new Map<string, PendingPubAck>();
  private prefix: string | undefined;
  private subscription: Subscription | undefined;
  private nextToken = 0;
  private sweep: NodeJS.Timeout | undefined;
  private closed = false;

  /** @param sweepEveryMs How often pending requests are checked for their timeout. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly sweepEveryMs: number,
  ) {}

  /** Requests waiting for their PubAck. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether the timeout sweep is armed (only while requests are pending). */
  get sweeping(): boolean {
    return this.sweep !== undefined;
  }

  /**
   * Publishes `data` to `subject` and resolves on its PubAck (a duplicate is one too). Rejects with
   * {@link NoRespondersError}, a `JetStreamApiError` (the stream refused it),
   * {@link PubAckTimeoutError}, or whatever `nc.publish` throws (closed, draining).
   */
  request(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new PubAckMuxClosedError());
    const prefix = this.prefix ?? this.subscribe();
    const token = String(++this.nextToken);
    return new Promise<void>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, expires: Date.now() + timeoutMs, timeoutMs });
      this.sweep ??= setInterval(() => this.expire(), this.sweepEveryMs);
      try {
        this.nc.publish(subject, data, { reply: `${prefix}.${token}`, headers });
      } catch (err) {
        this.take(token)?.reject(err as Error);
      }
    });
  }

  /** Fails every pending request: a reply to one sent before a disconnect may never come. */
  failAll(err: Error): void {
    const lost = [...this.pending.values()];
    this.pending.clear();
    this.stopSweep();
    for (const entry of lost) entry.reject(err);
  }

  /** Fails what is pending with {@link PubAckMuxClosedError} and refuses new requests. Idempotent. */
  close(): void {
    this.closed = true;
    this.failAll(new PubAckMuxClosedError());
    if (this.subscription && !this.subscription.isClosed()) this.subscription.unsubscribe();
    this.subscription = undefined;
  }

  /** One subscription for all replies, made on first use; nats.js renews it after a reconnect. */
  private subscribe(): string {
    const prefix = createInbox();
    const start = prefix.length + 1;
    this.subscription = this.nc.subscribe(`${prefix}.*`, {
      callback: (err, msg) => {
        if (err) {
          // The subscription is gone (e.g. a permissions error): fail its requests, start afresh.
          this.prefix = undefined;
          this.failAll(err);
          return;
        }
        const entry = this.take(msg.subject.substring(start));
        if (!entry) return;
        const refused = pubAckError(msg);
        if (refused) entry.reject(refused);
        else entry.resolve();
      },
    });
    this.prefix = prefix;
    return prefix;
  }

  /** Removes and returns the request for `token` (undefined for a late reply to a failed one). */
  private take(token: string): PendingPubAck | undefined {
    const entry = this.pending.get(token);
    if (!entry) return undefined;
    this.pending.delete(token);
    return entry;
  }

  /**
   * The sweep stops itself once nothing is pending, rather than at each last reply: on a busy bus
   * requests come and go one at a time, and re-arming a timer per publish is the cost avoided here.
   */
  private expire(): void {
    // Pending requests are few (a PubAck takes a millisecond or so), so a full scan is cheap.
    const now = Date.now();
    for (const [token, entry] of this.pending) {
      if (entry.expires > now) continue;
      this.pending.delete(token);
      entry.reject(new PubAckTimeoutError(entry.timeoutMs));
    }
    if (this.pending.size === 0) this.stopSweep();
  }

  private stopSweep(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
  }
}

/** The error a reply stands for, or undefined for a PubAck. Mirrors nats.js's own reading of it. */
function pubAckError(msg: Msg): Error | undefined {
  const status = msg.headers;
  if (status?.hasError) {
    if (status.code === 503) return new NoRespondersError();
    return new Error(`unexpected reply status ${status.status}`);
  }
  let reply: PubAckReply;
  try {
    reply = msg.json<PubAckReply>();
  } catch (err) {
    return new Error(`unreadable PubAck: ${(err as Error).message}`, { cause: err });
  }
  if (reply.error) {
    const apiError = new JetStreamApiError(reply.error);
    return reply.error.err_code === JetStreamApiCodes.JetStreamNotEnabledForAccount ? new NoRespondersError({ cause: apiError }) : apiError;
  }
  if (typeof reply.stream !== 'string' || reply.stream === '') return new Error('invalid PubAck: no stream');
  return undefined;
}
