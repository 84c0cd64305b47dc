import { readFileSync, statSync } from 'node:fs';
import { TaskOutputInvalidError } from './errors';

/** The largest outputs file a task may write, in bytes. Outputs are small values, not data sets. */
export const MAX_OUTPUTS_BYTES = 64 * 1024;

/**
 * Reads the JSON object a task wrote to its `SKEIN_OUTPUT_PATH`. A missing or blank file means
 * "no outputs" (`undefined`); anything else must be a JSON object of at most `maxBytes`, or this
 * throws a {@link TaskOutputInvalidError} whose message says what is wrong and what to do.
 *
 * Synchronous on purpose: it is one `stat` (and, when there are outputs, one small read) per
 * attempt, cheaper than a round trip through the libuv thread pool.
 */
export function readOutputs(path: string, maxBytes: number = MAX_OUTPUTS_BYTES): Record<string, unknown> | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat || stat.size === 0) return undefined;
  if (!stat.isFile()) throw new TaskOutputInvalidError('SKEIN_OUTPUT_PATH is not a regular file: write a JSON object to it');
  if (stat.size > maxBytes) {
    throw new TaskOutputInvalidError(
      `the outputs written to SKEIN_OUTPUT_PATH are ${stat.size} bytes, over the limit of ${maxBytes}: ` +
        'outputs are for small values; put larger data in storage and pass its location instead');
  }
  const text = readFileSync(path, 'utf8');
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TaskOutputInvalidError(
      `the outputs written to SKEIN_OUTPUT_PATH are not valid JSON (${(err as Error).message}): write one JSON object, e.g. {"rows": 3}`,
      { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TaskOutputInvalidError(
      `the outputs written to SKEIN_OUTPUT_PATH must be a JSON object, not ${describeJson(value)}: wrap the value, e.g. {"value": ...}`);
  }
  return value as Record<string, unknown>;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
