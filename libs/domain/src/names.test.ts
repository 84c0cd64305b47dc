import { dnsLabelProblem, envNameProblem, isDnsLabel, isIdentifier, labelKeyProblem, labelValueProblem } from './names';

describe('DNS labels', () => {
  it.each(['a', 'extract', 'sports-etl', 'a1', '1a', '0', 'a'.repeat(63)])('accepts %s', (s) => {
    expect(isDnsLabel(s)).toBe(true);
    expect(dnsLabelProblem(s)).toBeUndefined();
  });
  it.each(['', 'A', 'Sports', '-a', 'a-', 'a_b', 'a.b', 'a b', 'a'.repeat(64)])('rejects %j', (s) => {
    expect(isDnsLabel(s)).toBe(false);
    expect(dnsLabelProblem(s)).toBeDefined();
  });
  it('suggests a fix when there is an obvious one', () => {
    expect(dnsLabelProblem('Sports_ETL')).toBe(
      `"Sports_ETL" is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (try "sports-etl")`,
    );
    expect(dnsLabelProblem('---')).not.toContain('try');
    expect(dnsLabelProblem('a'.repeat(70))).toBe('must be at most 63 characters (it has 70)');
    expect(dnsLabelProblem('')).toBe('must not be empty');
  });
});

describe('identifiers', () => {
  it.each([
    ['season', true],
    ['_x1', true],
    ['Season_2', true],
    ['1x', false],
    ['a-b', false],
    ['', false],
  ])('%j → %s', (s, ok) => {
    expect(isIdentifier(s)).toBe(ok);
  });
});

describe('env var names', () => {
  it('accepts ordinary names', () => {
    expect(envNameProblem('DATABASE_URL')).toBeUndefined();
    expect(envNameProblem('lower_ok')).toBeUndefined();
  });
  it('rejects bad and reserved names', () => {
    expect(envNameProblem('1A')).toContain('not a valid env var name');
    expect(envNameProblem('A-B')).toContain('not a valid env var name');
    expect(envNameProblem('SKEIN_RUN_ID')).toContain('reserved');
    expect(envNameProblem('TRACEPARENT')).toContain('reserved');
  });
});

describe('labels', () => {
  it.each(['team', 'app.kubernetes.io/name', 'example.com/Tier_1', 'a'])('accepts key %s', (k) => {
    expect(labelKeyProblem(k)).toBeUndefined();
  });
  it.each(['', '/name', 'Example.com/x', 'a/', 'a/b/c', '-x', 'x'.repeat(64), `${'a'.repeat(254)}/x`])('rejects key %j', (k) => {
    expect(labelKeyProblem(k)).toBeDefined();
  });
  it.each(['', 'data', 'v1.2_x', 'A-b'])('accepts value %j', (v) => {
    expect(labelValueProblem(v)).toBeUndefined();
  });
  it.each(['-x', 'x-', 'a b', 'x'.repeat(64), 'a/b'])('rejects value %j', (v) => {
    expect(labelValueProblem(v)).toBeDefined();
  });
});
