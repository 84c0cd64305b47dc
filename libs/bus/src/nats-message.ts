import type { JsMsg } from '@nats-io/jetstream';
import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { BusMessage, Headers } from './bus';
import { BusError } from './errors';

const EMPTY_HEADERS: Headers = Object.freeze({});

/** Bus headers → NATS headers (undefined when there are none: saves the header block on the wire). */
export function toMsgHdrs(headers: Headers | undefined): MsgHdrs | undefined {
  if (headers === undefined) return undefined;
  let out: MsgHdrs | undefined;
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined) continue;
    out ??= createHeaders();
    out.set(key, value);
  }
  return out;
}

/**
 * Headers of a JetStream publish: the caller's, plus `Nats-Msg-Id` (the stream deduplicates on it)
 * when a `msgId` is given. Undefined when there are none.
 */
export function toPublishHdrs(headers: Headers | undefined, msgId: string | undefined): MsgHdrs | undefined {
  const out = toMsgHdrs(headers);
  // As nats.js does, an empty msgId means none.
  if (!msgId) return out;
  const withId = out ?? createHeaders();
  withId.set('Nats-Msg-Id', msgId);
  return withId;
}

/** NATS headers → bus headers. JetStream's own `Nats-*` headers (e.g. Nats-Msg-Id) are kept. */
export function fromMsgHdrs(hdrs: MsgHdrs | undefined): Headers {
  if (hdrs === undefined) return EMPTY_HEADERS;
  const out: Record<string, string> = {};
  for (const [key, values] of hdrs) {
    const first = values[0];
    if (first !== undefined) out[key] = first;
  }
  return Object.freeze(out);
}

/**
 * A JetStream message seen through the {@link BusMessage} interface. Headers and delivery info
 * are decoded on first use: most handlers read neither, and this is the hot path.
 */
export class NatsBusMessage implements BusMessage {
  private decodedHeaders: Headers | undefined;

  constructor(private readonly msg: JsMsg) {}

  get subject(): string {
    return this.msg.subject;
  }

  get data(): Uint8Array {
    return this.msg.data;
  }

  get headers(): Headers {
    this.decodedHeaders ??= fromMsgHdrs(this.msg.headers);
    return this.decodedHeaders;
  }

  get deliveryCount(): number {
    return this.msg.info.deliveryCount;
  }

  get sequence(): number {
    return this.msg.info.streamSequence;
  }

  async ack(): Promise<void> {
    try {
      // ackAck waits for the server's confirmation; a second ack resolves without sending.
      await this.msg.ackAck();
    } catch (err) {
      throw new BusError('ACK_FAILED', `ack of ${this.msg.subject} #${this.sequence} was not confirmed; the message will be redelivered`, { cause: err });
    }
  }

  ackNoWait(): void {
    swallowClosed(() => this.msg.ack());
  }

  nak(delayMs?: number): void {
    // A nak on a closed connection cannot be sent; the ack-wait timer redelivers instead.
    swallowClosed(() => this.msg.nak(delayMs && delayMs > 0 ? delayMs : undefined));
  }

  working(): void {
    swallowClosed(() => this.msg.working());
  }

  term(): void {
    swallowClosed(() => this.msg.term());
  }
}

function swallowClosed(action: () => void): void {
  try {
    action();
  } catch {
    // Only a closed connection throws here, and then the server redelivers after ack wait anyway.
  }
}
