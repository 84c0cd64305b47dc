/**
 * Validation of the Job manifests Skein generates, in two passes:
 * 1. the real batch/v1 Job schema from the Kubernetes OpenAPI definitions (the `kubernetes-models`
 *    package, validated with ajv): types, required fields, enums, formats;
 * 2. a strict pass, like `kubectl apply --validate=strict`: the OpenAPI schemas allow unknown
 *    properties, so this hand-written subset with `additionalProperties: false` where Skein writes
 *    the object catches a misspelt or misplaced field.
 */
import { Job } from 'kubernetes-models/batch/v1/Job';

type Schema = {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  enum?: readonly unknown[];
  pattern?: RegExp;
  maxLength?: number;
  minimum?: number;
};

const str: Schema = { type: 'string' };
const strMap: Schema = { type: 'object', additionalProperties: str };
const obj: Schema = { type: 'object' };
const dnsLabel: Schema = { type: 'string', pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, maxLength: 63 };
const keyRef: Schema = { type: 'object', required: ['key'], additionalProperties: false, properties: { name: str, key: str, optional: { type: 'boolean' } } };
const envVar: Schema = {
  type: 'object', required: ['name'], additionalProperties: false,
  properties: { name: str, value: str, valueFrom: { type: 'object', additionalProperties: false, properties: { secretKeyRef: keyRef, configMapKeyRef: keyRef, fieldRef: obj, resourceFieldRef: obj } } },
};
const localRef: Schema = { type: 'object', additionalProperties: false, properties: { name: str, optional: { type: 'boolean' } } };
const container: Schema = {
  type: 'object', required: ['name'], additionalProperties: false,
  properties: {
    name: dnsLabel, image: str, imagePullPolicy: { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'] },
    command: { type: 'array', items: str }, args: { type: 'array', items: str }, workingDir: str,
    env: { type: 'array', items: envVar },
    envFrom: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { prefix: str, secretRef: localRef, configMapRef: localRef } } },
    resources: { type: 'object', additionalProperties: false, properties: { requests: strMap, limits: strMap, claims: { type: 'array' } } },
    volumeMounts: { type: 'array', items: { type: 'object', required: ['name', 'mountPath'], properties: { name: str, mountPath: str, readOnly: { type: 'boolean' }, subPath: str } } },
    securityContext: obj, ports: { type: 'array' }, stdin: { type: 'boolean' }, tty: { type: 'boolean' },
    terminationMessagePath: str, terminationMessagePolicy: { type: 'string', enum: ['File', 'FallbackToLogsOnError'] },
  },
};
const podSpec: Schema = {
  type: 'object', required: ['containers'], additionalProperties: false,
  properties: {
    containers: { type: 'array', items: container }, initContainers: { type: 'array', items: container },
    restartPolicy: { type: 'string', enum: ['Always', 'OnFailure', 'Never'] },
    volumes: { type: 'array', items: { type: 'object', required: ['name'] } },
    nodeSelector: strMap, tolerations: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { key: str, operator: { type: 'string', enum: ['Exists', 'Equal'] }, value: str, effect: str, tolerationSeconds: { type: 'integer' } } } },
    affinity: { type: 'object', additionalProperties: false, properties: { nodeAffinity: obj, podAffinity: obj, podAntiAffinity: obj } },
    serviceAccountName: str, automountServiceAccountToken: { type: 'boolean' },
    imagePullSecrets: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { name: str } } },
    securityContext: obj, priorityClassName: str, schedulerName: str, hostname: str, dnsPolicy: str,
    terminationGracePeriodSeconds: { type: 'integer', minimum: 0 }, activeDeadlineSeconds: { type: 'integer', minimum: 1 },
  },
};
const objectMeta: Schema = { type: 'object', properties: { name: dnsLabel, namespace: dnsLabel, labels: strMap, annotations: strMap } };

/** batch/v1 Job (minimal, derived: see the file comment). */
export const JOB_SCHEMA: Schema = {
  type: 'object', required: ['apiVersion', 'kind', 'metadata', 'spec'], additionalProperties: false,
  properties: {
    apiVersion: { type: 'string', enum: ['batch/v1'] }, kind: { type: 'string', enum: ['Job'] }, metadata: objectMeta, status: obj,
    spec: {
      type: 'object', required: ['template'], additionalProperties: false,
      properties: {
        backoffLimit: { type: 'integer', minimum: 0 }, activeDeadlineSeconds: { type: 'integer', minimum: 1 },
        ttlSecondsAfterFinished: { type: 'integer', minimum: 0 }, completions: { type: 'integer' }, parallelism: { type: 'integer' },
        template: { type: 'object', required: ['spec'], additionalProperties: false, properties: { metadata: objectMeta, spec: podSpec } },
      },
    },
  },
};

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return value === null ? 'null' : typeof value;
}

/** Validates `value` against `schema`; returns one message per problem, each naming the field path. */
export function validate(value: unknown, schema: Schema, path = ''): string[] {
  const at = path || '(root)';
  if (schema.type && typeOf(value) !== schema.type) return [`${at}: expected ${schema.type}, got ${typeOf(value)}`];
  const problems: string[] = [];
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.pattern && !schema.pattern.test(value)) problems.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => problems.push(...validate(item, schema.items as Schema, `${path}[${i}]`)));
  if (schema.type === 'object' && value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (record[key] === undefined) problems.push(`${path ? `${path}.` : ''}${key}: required`);
    for (const [key, item] of Object.entries(record)) {
      const child = `${path ? `${path}.` : ''}${key}`;
      const known = schema.properties?.[key];
      if (known) problems.push(...validate(item, known, child));
      else if (schema.additionalProperties === false) problems.push(`${child}: unknown field`);
      else if (typeof schema.additionalProperties === 'object') problems.push(...validate(item, schema.additionalProperties, child));
    }
  }
  return problems;
}

/** Problems of a Job manifest against the real schema and {@link JOB_SCHEMA}; empty when it validates. */
export function validateJob(job: unknown): string[] {
  const problems: string[] = [];
  try {
    new Job(job as ConstructorParameters<typeof Job>[0]).validate();
  } catch (err) {
    problems.push(`batch/v1 Job schema: ${(err as Error).message}`);
  }
  return [...problems, ...validate(job, JOB_SCHEMA)];
}
