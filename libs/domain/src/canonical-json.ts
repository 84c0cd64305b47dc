import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level and no whitespace, so that two equal values always
 * serialise to the same bytes. Otherwise it follows `JSON.stringify`: `undefined` properties are
 * dropped, `toJSON` (e.g. on Date) is honoured, non-finite numbers become `null`.
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
  // JSON.stringify(undefined) is undefined; a digest needs a string.
  return text ?? 'null';
}

/** Lowercase hex sha256 of `canonicalJson(value)`: the digest of a workflow spec. */
export function sha256OfCanonicalJson(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}
