import { randomBytes } from 'node:crypto';

/** Crockford base32, lowercase: no i, l, o, u, so ids read back unambiguously. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10; // 50 bits, of which the top 2 are always 0 for a 48-bit timestamp
const MAX_TIME = 2 ** 48 - 1;
const ID_PATTERN = /^[0-7][0-9a-hjkmnp-tv-z]{25}$/;

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** 80 random bits as 16 base32 digits (5 bits each). */
function randomDigits(): number[] {
  const bytes = randomBytes(10);
  const digits: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      digits.push((buffer >> bits) & 31);
    }
    buffer &= (1 << bits) - 1;
  }
  return digits;
}

/** Adds one to a base32 digit string; false on overflow (2^80 ids in one ms: never in practice). */
function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = digits[i] ?? 0;
    if (d < 31) {
      digits[i] = d + 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

/** Makes ids; see {@link newId}. */
export type IdGenerator = () => string;

/**
 * An id generator reading the time from `now`. Ids made in the same millisecond, or while the clock
 * steps back, increment the random part of the previous id (as a monotonic ULID does), so the ids of
 * one generator always sort in the order they were made.
 *
 * @param now the clock, in ms since the epoch. @default Date.now
 */
export function createIdGenerator(now: () => number = Date.now): IdGenerator {
  let lastTime = -1;
  let lastRandom: number[] = [];
  return () => {
    const time = Math.min(Math.max(Math.floor(now()), 0), MAX_TIME);
    if (time > lastTime || !increment(lastRandom)) {
      lastTime = Math.max(time, lastTime);
      lastRandom = randomDigits();
    }
    return encodeTime(lastTime) + lastRandom.map((d) => ALPHABET[d]).join('');
  };
}

const defaultGenerator = createIdGenerator();

/**
 * A new id: 26 characters of lowercase Crockford base32, a 48-bit millisecond timestamp followed by
 * 80 random bits (a monotonic ULID, lowercased). Ids sort by creation time, are unique without
 * coordination, and are valid DNS-1123 labels, so they can name Kubernetes objects.
 */
export function newId(): string {
  return defaultGenerator();
}

/** True for a string shaped like an id made by {@link newId}. */
export function isId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** The creation time encoded in an id; undefined if `id` is not an id. */
export function idTime(id: string): Date | undefined {
  if (!isId(id)) return undefined;
  let ms = 0;
  for (const char of id.slice(0, TIME_CHARS)) ms = ms * 32 + ALPHABET.indexOf(char);
  return new Date(ms);
}
