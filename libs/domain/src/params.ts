/**
 * Params at trigger time: the values a run gets from what the caller gave and the workflow's
 * declared params (types and defaults).
 */
import type { ParamIssue } from './errors';
import { didYouMean } from './suggest';
import type { ParamSpec, ParamType } from './workflow';

/** A resolved param value: an `object` param's value is a JSON object. */
export type ParamValue = string | number | boolean | ParamObject;

/** The value of an `object` param: a JSON object (from a YAML mapping, JSON, or a CLI `--param k='{...}'`). */
export type ParamObject = { readonly [key: string]: unknown };

/** The largest `object` param value, as JSON: 64 KiB. */
export const MAX_OBJECT_PARAM_BYTES = 64 * 1024;

/** The outcome of {@link resolveParams}: values for every declared param, or the problems. */
export interface ResolvedParams {
  readonly values: Record<string, ParamValue>;
  readonly errors: ParamIssue[];
}

/** Every param type. */
export const PARAM_TYPES: readonly ParamType[] = ['string', 'integer', 'number', 'boolean', 'enum', 'object'];

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function article(type: ParamType, values?: readonly string[]): string {
  if (type === 'enum') return `one of ${(values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
  if (type === 'object') return 'a JSON object';
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
  if (type === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return `must be ${article(type)}, got ${describe(value)}`;
    const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
    return size > MAX_OBJECT_PARAM_BYTES ? `is too large: ${size} bytes as JSON (the limit is ${MAX_OBJECT_PARAM_BYTES})` : undefined;
  }
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
  if (typeof value === 'string' && type === 'object') {
    // From the CLI: `--param filters='{"region": "eu"}'`.
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return { problem: `must be a JSON object, got ${describe(value)} (not valid JSON)` };
    }
    const problem = paramValueProblem(type, parsed);
    return problem === undefined ? { value: parsed as ParamObject } : { problem };
  }
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
