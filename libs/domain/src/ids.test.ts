import { createIdGenerator, idTime, isId, newId } from './ids';

describe('newId', () => {
  it('is 26 lowercase Crockford base32 characters', () => {
    const id = newId();
    expect(id).toHaveLength(26);
    expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
    expect(isId(id)).toBe(true);
  });

  it('is a DNS-1123 label', () => {
    expect(newId()).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it('encodes the current time', () => {
    const before = Date.now();
    const t = idTime(newId())?.getTime() ?? 0;
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('does not repeat and sorts in creation order over many calls', () => {
    const ids = Array.from({ length: 10_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('createIdGenerator', () => {
  it('encodes the timestamp first', () => {
    const t = Date.UTC(2026, 0, 1);
    expect(idTime(createIdGenerator(() => t)())?.getTime()).toBe(t);
    // The ULID spec's example timestamp 1469918176385 encodes as 01ARYZ6S41.
    expect(createIdGenerator(() => 1469918176385)().slice(0, 10)).toBe('01aryz6s41');
  });

  it('sorts by time', () => {
    let t = 1_000_000;
    const gen = createIdGenerator(() => t);
    const a = gen();
    t = 2_000_000;
    expect(a < gen()).toBe(true);
  });

  it('stays ordered and unique within one millisecond and when the clock steps back', () => {
    const times = [5000, 5000, 5000, 4000, 5000, 5001];
    const gen = createIdGenerator(() => times.shift() ?? 0);
    const ids = Array.from({ length: 6 }, gen);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(idTime(ids[3] ?? '')?.getTime()).toBe(5000);
    expect(idTime(ids[5] ?? '')?.getTime()).toBe(5001);
  });
});

describe('isId', () => {
  it.each([
    ['', false],
    ['01ARYZ6S41TSV4RRFFQ69G5FAV', false], // uppercase
    ['01aryz6s41tsv4rrffq69g5fav', true],
    ['01aryz6s41tsv4rrffq69g5fa', false], // 25 chars
    ['01aryz6s41tsv4rrffq69g5fai', false], // i is not Crockford
    ['81aryz6s41tsv4rrffq69g5fav', false], // timestamp over 48 bits
  ])('%s → %s', (s, ok) => {
    expect(isId(s)).toBe(ok);
  });
  it('idTime rejects a non-id', () => {
    expect(idTime('nope')).toBeUndefined();
  });
});
