/**
 * Params at trigger time: the values a run gets from what the caller gave and the workflow's
 * declared params (types and defaults).
 */
import type { ParamIssue } from './errors';
import { didYouMean } from './suggest';
import type { ParamSpec, ParamType } from './workflow';

/** A resolved param value. */
export type ParamValue = string | number | boolean;

/** The outcome of {@link resolveParams}: values for every declared param, or the problems. */
export interface ResolvedParams {
  readonly values: Record<string, ParamValue>;
  readonly errors: ParamIssue[];
}

/** Every param type. */
export const PARAM_TYPES: readonly ParamType[] = ['string', 'integer', 'number', 'boolean', 'enum'];

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function article(type: ParamType, values?: readonly string[]): string {
  if (type === 'enum') return `one of ${(values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
  return type === 'integer' ? 'an integer' : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value === 'number' && Number.isInteger(value) ? 'the integer' : `the ${typeof value}`} ${String(value)}`;
}

/**
 * Checks a value against a param type, without coercion: the check for a default in a workflow file.
 * Returns what is wrong, or undefined.
 */
export function paramValueProblem(type: ParamType, value: unknown, values?: readonly string[]): string | undefined {
  if (type === 'enum') {
    if (typeof value === 'string' && (values ?? []).includes(value)) return undefined;
    return `must be ${article(type, values)}, got ${describe(value)}${typeof value === 'string' ? didYouMean(value, values ?? []) : ''}`;
  }
  const ok =
    (type === 'string' && typeof value === 'string') ||
    (type === 'boolean' && typeof value === 'boolean') ||
    (type === 'integer' && typeof value === 'number' && Number.isSafeInteger(value)) ||
    (type === 'number' && typeof value === 'number' && Number.isFinite(value));
  return ok ? undefined : `must be ${article(type)}, got ${describe(value)}`;
}

/**
 * Coerces a value given at trigger time to a param's type. Strings (from a CLI `--param k=v`) are
 * converted for integer, number and boolean (`"true"` / `"false"`); nothing else is converted.
 */
export function coerceParamValue(type: ParamType, value: unknown, values?: readonly string[]): { value: ParamValue } | { problem: string } {
  if (typeof value === 'string' && type !== 'string' && type !== 'enum') {
    const text = value.trim();
    if (type === 'boolean' && (text === 'true' || text === 'false')) return { value: text === 'true' };
    if (type === 'integer' && INTEGER_TEXT.test(text) && Number.isSafeInteger(Number(text))) return { value: Number(text) };
    if (type === 'number' && NUMBER_TEXT.test(text) && Number.isFinite(Number(text))) return { value: Number(text) };
    return { problem: `must be ${article(type)}, got ${describe(value)}` };
  }
  const problem = paramValueProblem(type, value, values);
  return problem === undefined ? { value: value as ParamValue } : { problem };
}

/**
 * The params of a new run: given values checked (and coerced from strings) against the declared
 * params, defaults applied. Reports every problem: an unknown param (with a suggestion), a missing
 * required one, a value of the wrong type. A given value of `undefined` counts as not given.
 */
export function resolveParams(spec: Readonly<Record<string, ParamSpec>>, given: Readonly<Record<string, unknown>>): ResolvedParams {
  const values: Record<string, ParamValue> = {};
  const errors: ParamIssue[] = [];
  const declared = Object.keys(spec);
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(spec, name) && given[name] !== undefined) {
      errors.push({ param: name, message: `unknown param${didYouMean(name, declared)}` });
    }
  }
  for (const name of declared) {
    const param = spec[name] as ParamSpec;
    const value = Object.hasOwn(given, name) ? given[name] : undefined;
    if (value === undefined) {
      if (param.default !== undefined) values[name] = param.default;
      else errors.push({ param: name, message: `missing required param (${article(param.type, param.values)})` });
      continue;
    }
    const result = coerceParamValue(param.type, value, param.values);
    if ('problem' in result) errors.push({ param: name, message: result.problem });
    else values[name] = result.value;
  }
  return { values, errors };
}
