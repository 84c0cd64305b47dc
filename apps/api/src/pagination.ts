import { z } from 'zod';
import { invalidArgument } from './errors';

/**
 * Page sizes and page tokens (https://google.aip.dev/158). A token is an opaque base64url JSON cursor:
 * the position after the last item returned plus what the listing was of, so a token used with a
 * different parent is rejected instead of silently paging something else.
 */

export interface PageSizeLimits {
  /** Used when the request says 0. */
  readonly defaultSize: number;
  /** Larger is read as this (AIP-158: "values above the maximum are coerced down to the maximum"). */
  readonly maxSize: number;
}

/** Page sizes of List methods. */
export const LIST_PAGE: PageSizeLimits = { defaultSize: 50, maxSize: 1000 };
/** Page sizes of GetLogs. */
export const LOG_PAGE: PageSizeLimits = { defaultSize: 1000, maxSize: 10000 };

/**
 * The effective page size of a request: 0 is the default, more than the maximum is the maximum (a
 * client that pages until the token is empty still reads everything), negative is INVALID_ARGUMENT.
 */
export function pageSize(requested: number, limits: PageSizeLimits, field = 'page_size'): number {
  if (!Number.isInteger(requested) || requested < 0) throw invalidArgument(field, `must be a non-negative integer, got ${requested}`);
  if (requested === 0) return limits.defaultSize;
  return Math.min(requested, limits.maxSize);
}

export function encodePageToken(cursor: object): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Decodes a page token against the cursor shape the method expects; undefined for an empty token.
 * Anything else that does not decode to that shape is INVALID_ARGUMENT "invalid page_token".
 */
export function decodePageToken<T>(token: string, schema: z.ZodType<T>, field = 'page_token'): T | undefined {
  if (token === '') return undefined;
  const invalid = invalidArgument(field, 'invalid page_token: pass the next_page_token of the previous response unchanged');
  if (!BASE64URL.test(token)) throw invalid;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalid;
  return parsed.data;
}

/** Rejects a token minted for another listing (AIP-158: other request fields must not change between pages). */
export function checkTokenScope(tokenScope: string, requestScope: string, field = 'page_token'): void {
  if (tokenScope !== requestScope) {
    throw invalidArgument(field, 'invalid page_token: it belongs to a listing with a different parent or attempt');
  }
}

/** Cursor of ListWorkflows: workflows are ordered by id. */
export const workflowCursor = z.object({ k: z.literal('workflows'), after: z.string().min(1), f: z.string().max(64).optional() }).strict();

/** Cursor of ListRuns: runs are ordered newest first by (create_time, id). */
export const runCursor = z.object({
  k: z.literal('runs'),
  parent: z.string(),
  time: z.string().datetime({ offset: true }),
  id: z.string().min(1),
}).strict();

/** Cursor of ListTaskRuns: task runs are ordered by their position in the workflow. */
export const taskRunCursor = z.object({ k: z.literal('tasks'), parent: z.string(), position: z.number().int().nonnegative() }).strict();

/** Cursor of GetLogs: the attempt is pinned, so "latest attempt" cannot change between pages. */
export const logCursor = z.object({
  k: z.literal('logs'),
  parent: z.string(),
  attempt: z.number().int().positive(),
  after: z.number().int().nonnegative(),
}).strict();
