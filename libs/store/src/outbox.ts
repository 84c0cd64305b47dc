import type { Queryable } from './db';
import { decodeOutboxBatch } from './outbox-batch';

export interface OutboxMessage {
  readonly subject: string;
  readonly msgId: string;
  readonly payload: Uint8Array;
  readonly headers: Record<string, string>;
}

export interface StoredOutboxMessage extends OutboxMessage {
  /** The outbox row holding the message; the messages of a batch row share it. */
  readonly id: number;
}

/** Writes messages to be published after the surrounding transaction commits; returns their ids. */
export async function insertOutbox(db: Queryable, messages: readonly OutboxMessage[]): Promise<number[]> {
  if (messages.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO outbox (subject, msg_id, payload, headers)
     SELECT m.subject, m.msg_id, m.payload, m.headers
       FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[]) WITH ORDINALITY AS m(subject, msg_id, payload, headers, ord)
      ORDER BY m.ord
     RETURNING id`,
    [messages.map((m) => m.subject), messages.map((m) => m.msgId), messages.map((m) => Buffer.from(m.payload)),
      messages.map((m) => JSON.stringify(m.headers))]);
  return rows.map((r) => Number(r.id));
}

export async function deleteOutbox(db: Queryable, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [ids]);
}

/**
 * Locks outbox rows older than `olderThanMs` (committed but apparently not sent: their publisher died),
 * skipping rows another relay holds, and returns their messages (a batch row's every message, in
 * order, each with the row's id). Call inside a transaction and delete what was published.
 */
export async function claimStaleOutbox(db: Queryable, olderThanMs: number, limit: number): Promise<StoredOutboxMessage[]> {
  const { rows } = await db.query<{ id: string; subject: string; msg_id: string; payload: Buffer; headers: Record<string, string>; batch: boolean }>(
    `SELECT id, subject, msg_id, payload, headers, batch FROM outbox
      WHERE create_time < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, [olderThanMs, limit]);
  return rows.flatMap((r) => {
    const id = Number(r.id);
    return r.batch
      ? decodeOutboxBatch(r.payload).map((m) => ({ ...m, id }))
      : [{ id, subject: r.subject, msgId: r.msg_id, payload: new Uint8Array(r.payload), headers: r.headers }];
  });
}
