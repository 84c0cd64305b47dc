import { coerceParamValue, paramValueProblem, resolveParams } from './params';
import type { ParamSpec } from './workflow';

const spec: Record<string, ParamSpec> = {
  season: { type: 'string', default: '2026' },
  limit: { type: 'integer' },
  ratio: { type: 'number', default: 0.5 },
  dry: { type: 'boolean', default: false },
};

describe('resolveParams', () => {
  it('applies defaults and keeps given values', () => {
    expect(resolveParams(spec, { limit: 10 })).toEqual({ values: { season: '2026', limit: 10, ratio: 0.5, dry: false }, errors: [] });
    expect(resolveParams(spec, { limit: 1, season: '2025', dry: true, ratio: 2 }).values).toEqual({ season: '2025', limit: 1, ratio: 2, dry: true });
  });

  it('coerces strings from the CLI', () => {
    expect(resolveParams(spec, { limit: '42', ratio: '1.5e2', dry: 'true', season: '2027' })).toEqual({
      values: { season: '2027', limit: 42, ratio: 150, dry: true },
      errors: [],
    });
    expect(resolveParams(spec, { limit: '-3', dry: 'false' }).values).toMatchObject({ limit: -3, dry: false });
  });

  it('reports every problem at once', () => {
    const { errors } = resolveParams(spec, { seasn: '2026', ratio: 'lots', dry: 'yes' });
    expect(errors).toEqual([
      { param: 'seasn', message: 'unknown param (did you mean "season"?)' },
      { param: 'limit', message: 'missing required param (an integer)' },
      { param: 'ratio', message: 'must be a number, got the string "lots"' },
      { param: 'dry', message: 'must be a boolean, got the string "yes"' },
    ]);
  });

  it('checks types without coercing non-strings', () => {
    expect(resolveParams(spec, { limit: 1.5 }).errors).toEqual([{ param: 'limit', message: 'must be an integer, got the number 1.5' }]);
    expect(resolveParams(spec, { limit: 1, season: 2026 }).errors).toEqual([{ param: 'season', message: 'must be a string, got the integer 2026' }]);
    expect(resolveParams(spec, { limit: null }).errors).toEqual([{ param: 'limit', message: 'must be an integer, got null' }]);
    expect(resolveParams(spec, { limit: [1] }).errors).toEqual([{ param: 'limit', message: 'must be an integer, got a list' }]);
  });

  it('treats undefined as not given', () => {
    expect(resolveParams(spec, { limit: 3, season: undefined, extra: undefined })).toEqual({
      values: { season: '2026', limit: 3, ratio: 0.5, dry: false },
      errors: [],
    });
  });

  it('does not treat inherited object keys as params', () => {
    expect(resolveParams({}, { toString: 'x' }).errors).toEqual([{ param: 'toString', message: 'unknown param' }]);
    expect(resolveParams({ a: { type: 'string' } }, {}).errors).toEqual([{ param: 'a', message: 'missing required param (a string)' }]);
  });
});

describe('coerceParamValue', () => {
  it.each([
    ['integer', '007', 7],
    ['integer', ' 12 ', 12],
    ['number', '.5', 0.5],
    ['number', '-2', -2],
    ['boolean', 'false', false],
    ['string', '5', '5'],
  ] as const)('%s %j → %j', (type, input, value) => {
    expect(coerceParamValue(type, input)).toEqual({ value });
  });

  it.each([
    ['integer', '1.5'],
    ['integer', '0x10'],
    ['integer', '99999999999999999999'],
    ['integer', ''],
    ['number', 'Infinity'],
    ['number', 'NaN'],
    ['number', ''],
    ['boolean', 'True'],
    ['boolean', '1'],
  ] as const)('rejects %s %j', (type, input) => {
    expect(coerceParamValue(type, input)).toHaveProperty('problem');
  });
});

describe('paramValueProblem', () => {
  it('checks without coercion', () => {
    expect(paramValueProblem('integer', 3)).toBeUndefined();
    expect(paramValueProblem('integer', '3')).toBe('must be an integer, got the string "3"');
    expect(paramValueProblem('number', Number.NaN)).toBe('must be a number, got the number NaN');
    expect(paramValueProblem('boolean', 'true')).toBe('must be a boolean, got the string "true"');
    expect(paramValueProblem('string', true)).toBe('must be a string, got the boolean true');
    expect(paramValueProblem('string', { a: 1 })).toBe('must be a string, got an object');
  });
});

describe('enum params', () => {
  const spec = { env: { type: 'enum' as const, values: ['dev', 'prod'], default: 'dev' } };

  it('takes one of its values, and says which ones when given another', () => {
    expect(resolveParams(spec, {}).values).toEqual({ env: 'dev' });
    expect(resolveParams(spec, { env: 'prod' }).values).toEqual({ env: 'prod' });
    expect(resolveParams(spec, { env: 'prd' }).errors).toEqual([{ param: 'env', message: 'must be one of "dev", "prod", got the string "prd" (did you mean "prod"?)' }]);
    expect(resolveParams({ env: { type: 'enum', values: ['a'] } }, {}).errors).toEqual([{ param: 'env', message: 'missing required param (one of "a")' }]);
  });
});

describe('object params', () => {
  const spec = { filters: { type: 'object' as const, default: { region: 'eu', limit: 10 } } };

  it('takes a JSON object, or a string of JSON from the CLI, and defaults to the declared one', () => {
    expect(resolveParams(spec, {}).values).toEqual({ filters: { region: 'eu', limit: 10 } });
    expect(resolveParams(spec, { filters: { region: 'us' } }).values).toEqual({ filters: { region: 'us' } });
    expect(resolveParams(spec, { filters: '{"region": "apac", "tags": ["a"]}' }).values).toEqual({ filters: { region: 'apac', tags: ['a'] } });
  });

  it('rejects lists, scalars, invalid JSON and values over 64 KiB, naming the param', () => {
    expect(resolveParams(spec, { filters: [1] }).errors).toEqual([{ param: 'filters', message: 'must be a JSON object, got a list' }]);
    expect(resolveParams(spec, { filters: 3 }).errors).toEqual([{ param: 'filters', message: 'must be a JSON object, got the integer 3' }]);
    expect(resolveParams(spec, { filters: '{region: eu}' }).errors).toEqual([
      { param: 'filters', message: 'must be a JSON object, got the string "{region: eu}" (not valid JSON)' },
    ]);
    expect(resolveParams(spec, { filters: { blob: 'x'.repeat(70_000) } }).errors[0]?.message).toMatch(/^is too large: \d+ bytes as JSON \(the limit is 65536\)$/);
  });
});
