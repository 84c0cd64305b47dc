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

/** Refuses params larger than {@link MAX_PARAMS_BYTES} in all, or with one value over {@link MAX_PARAM_VALUE_BYTES}. */
export function checkParamsSize(params: Readonly<Record<string, unknown>> | undefined, field = 'params'): void {
  if (!params) return;
  const total = Buffer.byteLength(JSON.stringify(params), 'utf8');
  if (total > MAX_PARAMS_BYTES) throw invalidArgument(field, `are ${total} bytes as JSON; the limit is ${MAX_PARAMS_BYTES} bytes`);
  for (const [name, value] of Object.entries(params)) {
    const size = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (size > MAX_PARAM_VALUE_BYTES) {
      throw invalidArgument(`${field}.${name.slice(0, QUOTE_LENGTH)}`, `is ${size} bytes as JSON; the limit for one param is ${MAX_PARAM_VALUE_BYTES} bytes`);
    }
  }
}
