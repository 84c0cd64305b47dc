/**
 * PostgreSQL array literals for the parameters of the big statements (a run's write, its task runs,
 * a batch of log lines), built in one pass. Given a JavaScript array, `pg` builds the same text
 * element by element — a string concatenation, two regular-expression replaces and, for a date, a
 * dozen small strings per element — and for a 5,000-task run that was a fifth of everything the
 * scheduler allocated in W1 (a sampled allocation profile, docs/benchmarks.md). Here an array whose
 * elements need no escaping is one `join`, and every other element is quoted and escaped once.
 *
 * Each result is sent as the text of an array parameter (`$2::text[]`), exactly as `pg` would send it.
 */

/** A character that must be escaped inside a quoted array element. */
const NEEDS_ESCAPE = /[\\"]/;
const ESCAPES = /[\\"]/g;

function quoted(value: string): string {
  return `"${NEEDS_ESCAPE.test(value) ? value.replace(ESCAPES, '\\$&') : value}"`;
}

/**
 * `text[]` (also for `jsonb[]` given JSON texts). Every element is quoted, so an empty string, one
 * with spaces, commas or braces, or the word NULL stays that text; `null` is SQL NULL.
 */
export function textArray(values: readonly (string | null)[]): string {
  if (values.length === 0) return '{}';
  let plain = true;
  for (const value of values) {
    if (value === null || NEEDS_ESCAPE.test(value)) {
      plain = false;
      break;
    }
  }
  if (plain) return `{"${values.join('","')}"}`;
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string | null;
    parts[i] = value === null ? 'NULL' : quoted(value);
  }
  return `{${parts.join(',')}}`;
}

/** `int[]`, `smallint[]` or `bigint[]` of integers; `null` is SQL NULL. */
export function intArray(values: readonly (number | null)[]): string {
  for (const value of values) {
    if (value !== null && !Number.isSafeInteger(value)) throw new TypeError(`not an integer for an integer array: ${value}`);
  }
  if (!values.includes(null)) return `{${values.join(',')}}`;
  return `{${values.map((value) => (value === null ? 'NULL' : String(value))).join(',')}}`;
}

/** The second `isoTime` formatted last, and its text up to the milliseconds ("2026-11-21T16:29:37."). */
let formattedSecond = Number.NaN;
let secondPrefix = '';

/**
 * `date.toISOString()`, without formatting the date again for every instant of the same second
 * (a batch's times mostly share theirs; `toISOString` costs ~1 µs, this a quarter of that).
 */
function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== formattedSecond) {
    secondPrefix = new Date(second * 1000).toISOString().slice(0, -4);
    formattedSecond = second;
  }
  const milli = ms - second * 1000;
  return `${secondPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

/** `timestamptz[]`, in UTC to the millisecond (the precision of a Date); `null` is SQL NULL. */
export function timestampArray(values: readonly (Date | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as Date | null;
    if (value === null) {
      parts[i] = 'NULL';
      continue;
    }
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new RangeError(`an invalid Date in a timestamp array (element ${i})`);
    parts[i] = isoTime(ms);
  }
  return `{${parts.join(',')}}`;
}
