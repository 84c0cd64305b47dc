import { canonicalJson, sha256OfCanonicalJson } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });
  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
  });
  it('drops undefined properties and honours toJSON', () => {
    expect(canonicalJson({ a: undefined, d: new Date('2026-01-01T00:00:00Z') })).toBe('{"d":"2026-01-01T00:00:00.000Z"}');
  });
  it('serialises scalars and undefined', () => {
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
  });
  it('is independent of insertion order', () => {
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
});

describe('sha256OfCanonicalJson', () => {
  it('is a 64-char hex digest that ignores key order', () => {
    const d = sha256OfCanonicalJson({ a: 1, b: 2 });
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256OfCanonicalJson({ b: 2, a: 1 })).toBe(d);
    expect(sha256OfCanonicalJson({ a: 1, b: 3 })).not.toBe(d);
  });
  it('matches a known value', () => {
    // sha256 of the four bytes "null"
    expect(sha256OfCanonicalJson(null)).toBe('74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b');
  });
});
