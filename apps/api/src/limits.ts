import { invalidArgument } from './errors';

/**
 * Size limits on request fields that no other check bounds (docs/api.md lists every limit). Each is
 * checked before the field is used, and each failure names the field, so a caller hears what was too
 * big instead of the server spending memory or echoing a megabyte back in an error message.
 */

/** Longest resource name (`name`, `parent`), in characters: far above any real one (ids are ≤ 253). */
export const MAX_NAME_LENGTH = 1024;

/** Longest `file_name`, in characters: it only locates errors. */
export const MAX_FILE_NAME_LENGTH = 1024;

/** Largest `params` of a TriggerRun, BackfillRuns or RenderTask, as JSON, in UTF-8 bytes. */
export const MAX_PARAMS_BYTES = 64 * 1024;

/** Largest single param value, as JSON, in UTF-8 bytes: a run's params are copied into every task's environment. */
export const MAX_PARAM_VALUE_BYTES = 16 * 1024;

/** How much of a rejected value an error message quotes. */
const QUOTE_LENGTH = 100;

/** A value for an error message: JSON-quoted, cut to a readable length. */
export function quote(value: string): string {
  return value.length > QUOTE_LENGTH ? `${JSON.stringify(value.slice(0, QUOTE_LENGTH))}… (${value.length} characters)` : JSON.stringify(value);
}

/** Refuses a string field longer than `max` characters. */
export function checkLength(value: string, field: string, max: number): void {
  if (value.length > max) throw invalidArgument(field, `is ${value.length} characters long; the limit is ${max}`);
}

/** Deepest nesting of params values (objects and lists). */
export const MAX_PARAMS_DEPTH = 32;

/** Deepest nesting of a workflow document sent as a Struct (a real one nests about a dozen levels). */
export const MAX_DOCUMENT_DEPTH = 64;

/**
 * Refuses a JSON value nested deeper than `max`. Iterative, so a hostile value cannot overflow the
 * stack here, and run before anything recursive (JSON.stringify, validators) touches the value.
 */
export function checkJsonDepth(value: unknown, field: string, max: number): void {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) throw invalidArgument(field, `nests deeper than ${max} levels`);
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
}

/**
 * Refuses params larger than {@link MAX_PARAMS_BYTES} in all, with one value over
 * {@link MAX_PARAM_VALUE_BYTES}, or nested deeper than {@link MAX_PARAMS_DEPTH}.
 */
export function checkParamsSize(params: Readonly<Record<string, unknown>> | undefined, field = 'params'): void {
  if (!params) return;
  checkJsonDepth(params, field, MAX_PARAMS_DEPTH);
  const total = Buffer.byteLength(JSON.stringify(params), 'utf8');
  if (total > MAX_PARAMS_BYTES) throw invalidArgument(field, `are ${total} bytes as JSON; the limit is ${MAX_PARAMS_BYTES} bytes`);
  for (const [name, value] of Object.entries(params)) {
    const size = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (size > MAX_PARAM_VALUE_BYTES) {
      throw invalidArgument(`${field}.${name.slice(0, QUOTE_LENGTH)}`, `is ${size} bytes as JSON; the limit for one param is ${MAX_PARAM_VALUE_BYTES} bytes`);
    }
  }
}

// PostgreSQL's timestamptz reaches further, but outside years 1-9999 neither RFC 3339 nor most
// clients can write the value back.
const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Refuses a timestamp that is not a date (a Timestamp with out-of-range seconds) or lies outside years 1-9999. */
export function checkTimestamp(value: Date | undefined, field: string): void {
  if (value === undefined) return;
  const ms = value.getTime();
  if (Number.isNaN(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    throw invalidArgument(field, 'must be a time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z');
  }
}
