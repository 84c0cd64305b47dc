/** The AuditService: the audit log written by the access control (access-control.ts), newest first. Admin only. */
import { z } from 'zod';
import type { AuditEvent, ListAuditEventsRequest, ListAuditEventsResponse } from '@skein/proto';
import { listAuditEvents, type AuditEventRecord } from '@skein/store';
import type { ApiContext } from './api-context';
import { decodePageToken, encodePageToken, LIST_PAGE, pageSize } from './pagination';

export interface AuditMethods {
  listAuditEvents(request: ListAuditEventsRequest): Promise<ListAuditEventsResponse>;
}

const auditCursor = z.object({ k: z.literal('audit'), before: z.string().regex(/^\d{1,19}$/) }).strict();

function toAuditEvent(record: AuditEventRecord): AuditEvent {
  return {
    name: `auditEvents/${record.id}`, time: record.time, token: `tokens/${record.tokenId}`, tokenDisplayName: record.tokenDisplayName,
    method: record.method, resource: record.resource, outcome: record.outcome, transport: record.transport,
  };
}

export function createAuditMethods(ctx: ApiContext): AuditMethods {
  return {
    async listAuditEvents(request) {
      const limit = pageSize(request.pageSize, LIST_PAGE);
      const cursor = decodePageToken(request.pageToken, auditCursor);
      const records = await listAuditEvents(ctx.pool, { limit: limit + 1, beforeId: cursor?.before });
      const page = records.slice(0, limit);
      const last = page[page.length - 1];
      return {
        auditEvents: page.map(toAuditEvent),
        nextPageToken: records.length > limit && last ? encodePageToken({ k: 'audit', before: last.id }) : '',
      };
    },
  };
}
