import { isValidSubject, streamForSubject, subjectMatches, subjectsOverlap } from './subject-match';

describe('subjectMatches', () => {
  it.each([
    ['a.b.c', 'a.b.c', true],
    ['a.b.c', 'a.b', false],
    ['a.b', 'a.b.c', false],
    ['a.*.c', 'a.x.c', true],
    ['a.*.c', 'a.x.y.c', false],
    ['a.*', 'a', false],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c.d', true],
    ['a.>', 'a', false],
    ['>', 'a', true],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['*.b.>', 'x.b.y', true],
    ['*.b.>', 'x.c.y', false],
    ['ab.c', 'a.c', false],
    ['a.bc', 'a.bd', false],
  ])('%s matches %s: %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});

describe('subjectsOverlap', () => {
  it.each([
    ['a.>', 'a.b', true],
    ['a.>', 'a', false],
    ['a.*', 'a.>', true],
    ['a.*', 'a.b.c', false],
    ['a.b', 'a.c', false],
    ['a.*.c', 'a.b.*', true],
    ['skein.dispatch.>', 'skein.dispatch.q1', true],
    ['skein.dispatch.q1', 'skein.dispatch.q2', false],
  ])('%s overlaps %s: %s', (a, b, expected) => {
    expect(subjectsOverlap(a, b)).toBe(expected);
    expect(subjectsOverlap(b, a)).toBe(expected);
  });
});

describe('isValidSubject', () => {
  it('rejects empty tokens, whitespace and misplaced wildcards', () => {
    expect(isValidSubject('a.b', false)).toBe(true);
    expect(isValidSubject('a.*', true)).toBe(true);
    expect(isValidSubject('a.*', false)).toBe(false);
    expect(isValidSubject('a.>.b', true)).toBe(false);
    expect(isValidSubject('a..b', true)).toBe(false);
    expect(isValidSubject('a b', true)).toBe(false);
    expect(isValidSubject('', true)).toBe(false);
    expect(isValidSubject('a.b*', true)).toBe(false);
  });
});

describe('streamForSubject', () => {
  it('finds the stream that captures a subject', () => {
    expect(streamForSubject('skein.dispatch.default')?.name).toBe('dispatch');
    expect(streamForSubject('skein.events.run-1')?.name).toBe('events');
    expect(streamForSubject('skein.logs.attempt-1')?.name).toBe('logs');
    expect(streamForSubject('skein.cancel.attempt-1')).toBeUndefined();
    expect(streamForSubject('skein.dispatch')).toBeUndefined();
  });
});
