/**
 * Durations as users write them ("500ms", "30s", "1h30m", "2d", or a number of seconds) and as
 * Skein stores them (integer milliseconds).
 */
import { DurationError } from './errors';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The longest duration accepted: 365 days. Longer is surely a mistake, and keeps dates in range. */
export const MAX_DURATION_MS = 365 * UNIT_MS.d;

const SECONDS = /^\d+(?:\.\d+)?$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
const HINT = 'use a number of seconds or a string such as "500ms", "30s", "5m", "1h30m" or "2d"';

/** The result of checking a duration: milliseconds, or what is wrong with it. */
export type DurationCheck = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly message: string };

function ok(ms: number): DurationCheck {
  const rounded = Math.round(ms);
  if (rounded > MAX_DURATION_MS) return { ok: false, message: `duration is longer than the maximum of 365d` };
  return { ok: true, ms: rounded };
}

/** Checks a duration without throwing; the message is ready to show to the user. */
export function checkDuration(value: unknown): DurationCheck {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, message: `invalid duration ${String(value)}: ${HINT}` };
    if (value < 0) return { ok: false, message: `a duration cannot be negative, got ${value}` };
    return ok(value * UNIT_MS.s);
  }
  if (typeof value !== 'string') return { ok: false, message: `a duration must be a string or a number: ${HINT}` };
  const text = value.trim();
  if (text.startsWith('-')) return { ok: false, message: `a duration cannot be negative, got ${JSON.stringify(value)}` };
  if (SECONDS.test(text)) return ok(Number(text) * UNIT_MS.s);
  let total = 0;
  let index = 0;
  PART.lastIndex = 0;
  while (index < text.length) {
    PART.lastIndex = index;
    const match = PART.exec(text);
    if (!match) return { ok: false, message: `invalid duration ${JSON.stringify(value)}: ${HINT}` };
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    index = PART.lastIndex;
  }
  if (text.length === 0) return { ok: false, message: `invalid duration "": ${HINT}` };
  return ok(total);
}

/**
 * Parses a duration to milliseconds (rounded to a whole millisecond).
 *
 * @throws DurationError when the value is not a valid, non-negative duration of at most 365 days.
 */
export function parseDuration(value: string | number): number {
  const result = checkDuration(value);
  if (!result.ok) throw new DurationError(result.message);
  return result.ms;
}

/** Formats milliseconds the way a user would write them: `90000` → `"1m30s"`, `0` → `"0s"`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms);
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
