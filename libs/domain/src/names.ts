/**
 * Name rules: workflow, task and queue names are DNS-1123 labels (they end up in Kubernetes object
 * names and NATS subjects); params and env vars are identifiers; labels follow Kubernetes.
 * Each `...Problem` function returns what is wrong, ready for a message, or undefined.
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Prefix of the env vars Skein sets on every task; a task may not set them itself. */
export const RESERVED_ENV_PREFIX = 'SKEIN_';
const RESERVED_ENV_NAMES: ReadonlySet<string> = new Set(['TRACEPARENT', 'TRACESTATE']);

/** True for a DNS-1123 label: 1–63 lowercase letters, digits and '-', starting and ending alphanumeric. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** What keeps `value` from being a DNS-1123 label, with a corrected suggestion when one is obvious. */
export function dnsLabelProblem(value: string): string | undefined {
  if (isDnsLabel(value)) return undefined;
  if (value.length === 0) return 'must not be empty';
  if (value.length > 63) return `must be at most 63 characters (it has ${value.length})`;
  const fixed = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const hint = fixed !== value && isDnsLabel(fixed) ? ` (try ${JSON.stringify(fixed)})` : '';
  return `${JSON.stringify(value)} is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit${hint}`;
}

/** True for an identifier: a letter or '_' followed by letters, digits and '_'. */
export function isIdentifier(value: string): boolean {
  return IDENTIFIER.test(value);
}

/** What keeps `value` from being an env var name Skein lets a task set. */
export function envNameProblem(value: string): string | undefined {
  if (!IDENTIFIER.test(value)) {
    return `${JSON.stringify(value)} is not a valid env var name: use letters, digits and '_', not starting with a digit`;
  }
  if (value.startsWith(RESERVED_ENV_PREFIX) || RESERVED_ENV_NAMES.has(value)) {
    return `${JSON.stringify(value)} is reserved: Skein sets ${RESERVED_ENV_PREFIX}* and TRACEPARENT itself`;
  }
  return undefined;
}

/** What keeps `key` from being a Kubernetes label key (`[prefix/]name`). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key ${JSON.stringify(key)} has an invalid prefix: it must be a lowercase DNS subdomain of at most 253 characters`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key ${JSON.stringify(key)} is invalid: its name must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** What keeps `value` from being a Kubernetes label value (may be empty). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `label value ${JSON.stringify(value)} is invalid: use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}
