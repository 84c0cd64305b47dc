import type { OutboxMessage } from './outbox';
import { decodeOutboxBatch, encodeOutboxBatch, OutboxBatchError } from './outbox-batch';

describe('outbox batch framing', () => {
  it('gives back every message as written, in order', () => {
    const whole = Buffer.from([0, 1, 2, 3, 4, 5]);
    const messages: OutboxMessage[] = [
      { subject: 'skein.dispatch.default', msgId: 'a1', payload: new Uint8Array(whole.buffer, whole.byteOffset + 2, 3), headers: { traceparent: '00-ab-cd-01' } },
      { subject: 'skein.dispatch.ünï', msgId: '✓', payload: new Uint8Array(0), headers: {} },
      { subject: 's', msgId: '', payload: new Uint8Array(70_000).fill(9), headers: { a: 'quote " and \\ backslash', b: '' } },
    ];
    const decoded = decodeOutboxBatch(encodeOutboxBatch(messages));
    expect(decoded.map((m) => ({ ...m, payload: [...m.payload] }))).toEqual(messages.map((m) => ({ ...m, payload: [...m.payload] })));
    expect(decodeOutboxBatch(encodeOutboxBatch([]))).toEqual([]);
  });

  it('copies each payload out of the row, so the row buffer can go', () => {
    const encoded = encodeOutboxBatch([{ subject: 's', msgId: 'm', payload: new Uint8Array([1, 2]), headers: {} }]);
    const [message] = decodeOutboxBatch(encoded);
    encoded.fill(0);
    expect([...(message?.payload ?? [])]).toEqual([1, 2]);
  });

  it('refuses a payload it cannot read, saying why and where', () => {
    expect(() => decodeOutboxBatch(new Uint8Array(0))).toThrow('outbox batch: unknown version (empty) (this scheduler reads version 1)');
    expect(() => decodeOutboxBatch(new Uint8Array([2]))).toThrow(OutboxBatchError);
    const encoded = encodeOutboxBatch([{ subject: 'subject', msgId: 'm', payload: new Uint8Array([1]), headers: {} }]);
    expect(() => decodeOutboxBatch(encoded.subarray(0, 3))).toThrow('outbox batch: truncated at byte 1 of 3');
    expect(() => decodeOutboxBatch(encoded.subarray(0, 8))).toThrow('outbox batch: a field of 7 bytes at byte 5 runs past the end (8)');
  });
});
