/** The audit log of mutating API calls: append-only, read newest first. */
import type { Queryable } from './db';

export interface NewAuditEvent {
  readonly tokenId: string;
  readonly tokenDisplayName: string;
  readonly method: string;
  readonly resource: string;
  readonly outcome: string;
  readonly transport: 'grpc' | 'http';
}

export interface AuditEventRecord extends NewAuditEvent {
  /** A decimal string (bigserial). */
  readonly id: string;
  readonly time: Date;
}

interface AuditRow {
  id: string; time: Date; token_id: string; token_display_name: string; method: string; resource: string; outcome: string; transport: 'grpc' | 'http';
}

export async function insertAuditEvent(db: Queryable, event: NewAuditEvent): Promise<void> {
  await db.query({
    name: 'insert-audit-event',
    text: `INSERT INTO audit_events (token_id, token_display_name, method, resource, outcome, transport) VALUES ($1, $2, $3, $4, $5, $6)`,
    values: [event.tokenId, event.tokenDisplayName, event.method, event.resource, event.outcome, event.transport],
  });
}

/** Events newest first, with ids below `beforeId` when given (ordered by the bigint column, not its text alias). */
export async function listAuditEvents(db: Queryable, page: { limit: number; beforeId?: string }): Promise<AuditEventRecord[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT id::text AS id, time, token_id, token_display_name, method, resource, outcome, transport FROM audit_events
      WHERE ($1::bigint IS NULL OR audit_events.id < $1) ORDER BY audit_events.id DESC LIMIT $2`,
    [page.beforeId ?? null, page.limit]);
  return rows.map((row) => ({
    id: row.id, time: row.time, tokenId: row.token_id, tokenDisplayName: row.token_display_name, method: row.method,
    resource: row.resource, outcome: row.outcome, transport: row.transport,
  }));
}
