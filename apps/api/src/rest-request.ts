/**
 * Reading a REST request, the same way on every route: the JSON body as an object, query parameters by
 * their proto3 JSON name or their proto field name (each given at most once), page sizes and booleans.
 */
import type { Request } from 'express';
import { invalidArgument } from './errors';

/** The JSON body as an object; absent (no body) is `{}`. */
export function bodyObject(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** A query parameter by its proto3 JSON name or its proto field name; '' when absent. */
export function queryString(req: Request, jsonName: string, protoName: string): string {
  const value = req.query[jsonName] ?? req.query[protoName];
  if (value === undefined) return '';
  if (typeof value !== 'string') throw invalidArgument(protoName, 'must be given once');
  return value;
}

/** `pageSize`/`page_size`: a non-negative integer; 0 when absent. */
export function pageSizeQuery(req: Request): number {
  const value = queryString(req, 'pageSize', 'page_size');
  if (value !== '' && !/^\d{1,9}$/.test(value)) throw invalidArgument('page_size', 'must be a non-negative integer');
  return Number(value || 0);
}

/** `true` or `false`; false when absent. */
export function booleanQuery(req: Request, jsonName: string, protoName: string): boolean {
  const value = queryString(req, jsonName, protoName);
  if (value !== '' && value !== 'true' && value !== 'false') throw invalidArgument(protoName, 'must be true or false');
  return value === 'true';
}
