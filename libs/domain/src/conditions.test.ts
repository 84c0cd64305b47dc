import { evaluateCondition } from './conditions';

describe('evaluateCondition', () => {
  it.each([
    ['true', true], ['yes', true], ['42', true], ['anything', true],
    ['', false], ['false', false], ['False', false], ['0', false], ['no', false], ['off', false], ['"false"', false], ['  ', false],
  ])('a value %j is %s', (text, expected) => expect(evaluateCondition(text)).toBe(expected));

  it.each([
    ['3 > 0', true], ['0 > 0', false], ['10 > 9', true], ['2.5 <= 2.5', true], ['1e3 == 1000', true],
    ['abc == abc', true], ['abc != "abc"', false], ['b > a', true], ['10 > 9x', false], ['-1 < 0', true],
  ])('a comparison %j is %s', (text, expected) => expect(evaluateCondition(text)).toBe(expected));
});
