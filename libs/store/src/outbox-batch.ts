import type { OutboxMessage } from './outbox';

/**
 * The payload of a batch outbox row: every message of one scheduler write, framed in order. Version
 * byte 1, then per message four length-prefixed fields (unsigned 32-bit big-endian byte lengths):
 * subject (UTF-8), message id (UTF-8), headers (UTF-8 JSON object of strings), payload (bytes).
 * Internal to the store: written and read by Skein's own schedulers only.
 */
const VERSION = 1;

export class OutboxBatchError extends Error {
  constructor(message: string) {
    super(`outbox batch: ${message}`);
    this.name = 'OutboxBatchError';
  }
}

export function encodeOutboxBatch(messages: readonly OutboxMessage[]): Buffer {
  const fields: Buffer[] = [];
  let size = 1;
  for (const m of messages) {
    const headers = Object.keys(m.headers).length === 0 ? '{}' : JSON.stringify(m.headers);
    for (const field of [Buffer.from(m.subject), Buffer.from(m.msgId), Buffer.from(headers), Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength)]) {
      fields.push(field);
      size += 4 + field.length;
    }
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = VERSION;
  let at = 1;
  for (const field of fields) {
    out.writeUInt32BE(field.length, at);
    at += 4;
    at += field.copy(out, at);
  }
  return out;
}

export function decodeOutboxBatch(batch: Uint8Array): OutboxMessage[] {
  const bytes = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  if (bytes.length === 0 || bytes[0] !== VERSION) throw new OutboxBatchError(`unknown version ${bytes[0] ?? '(empty)'} (this scheduler reads version ${VERSION})`);
  let at = 1;
  const field = (): Buffer => {
    if (at + 4 > bytes.length) throw new OutboxBatchError(`truncated at byte ${at} of ${bytes.length}`);
    const length = bytes.readUInt32BE(at);
    at += 4;
    if (at + length > bytes.length) throw new OutboxBatchError(`a field of ${length} bytes at byte ${at} runs past the end (${bytes.length})`);
    const value = bytes.subarray(at, at + length);
    at += length;
    return value;
  };
  const messages: OutboxMessage[] = [];
  while (at < bytes.length) {
    const subject = field().toString();
    const msgId = field().toString();
    const headers = JSON.parse(field().toString()) as Record<string, string>;
    // A copy: the message outlives the row's buffer.
    const payload = new Uint8Array(field());
    messages.push({ subject, msgId, headers, payload });
  }
  return messages;
}
