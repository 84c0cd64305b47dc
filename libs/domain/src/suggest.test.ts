import { closestMatch, didYouMean, editDistance } from './suggest';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['extrct', 'extract', 1],
    ['same', 'same', 0],
  ])('%s → %s = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});

describe('closestMatch', () => {
  it('finds a one-letter typo', () => {
    expect(closestMatch('extrct', ['extract', 'transform', 'load'])).toBe('extract');
  });
  it('prefers a case-insensitive exact match', () => {
    expect(closestMatch('dependson', ['dependsOn', 'description'])).toBe('dependsOn');
  });
  it('picks the nearest of several', () => {
    expect(closestMatch('retrys', ['retries', 'retryDelay'])).toBe('retries');
  });
  it('suggests nothing for an unrelated word', () => {
    expect(closestMatch('banana', ['extract', 'load'])).toBeUndefined();
  });
  it('does not suggest the input itself', () => {
    expect(closestMatch('load', ['load'])).toBeUndefined();
  });
  it('does not match short names loosely', () => {
    expect(closestMatch('ab', ['xy'])).toBeUndefined();
    expect(closestMatch('ab', ['ac'])).toBe('ac');
  });
});

describe('didYouMean', () => {
  it('formats a suggestion', () => {
    expect(didYouMean('alSuccess', ['allSuccess', 'allDone'])).toBe(' (did you mean "allSuccess"?)');
  });
  it('is empty without one', () => {
    expect(didYouMean('zzz', ['allSuccess'])).toBe('');
  });
});
