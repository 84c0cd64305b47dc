/**
 * The values a task's container takes from Kubernetes Secrets, read so the task log can hide them
 * (the kubernetes runtime's `redactSecrets`). Only the executor's process ever holds them: they are
 * never logged, put in an error or written anywhere.
 */
import { isKubeStatus } from './errors';
import { TASK_CONTAINER } from './job-manifest';
import type { KubeClient } from './kube-client';
import type { Job, KubeJson } from './kube-objects';

/** One Secret a container takes env from: some of its keys (`secretKeyRef`) or all (`envFrom`). */
export interface SecretReference {
  readonly name: string;
  /** The keys used; `undefined`: every key (an `envFrom` source). */
  readonly keys: ReadonlySet<string> | undefined;
  /** Every reference to it is `optional`: a missing Secret (404) is not an error. */
  readonly optional: boolean;
}

/**
 * The Secrets the task container of `job` takes env from, one entry per Secret. Read from the Job as
 * built (not from the task's settings), so a `podTemplate` that adds env to the container counts too.
 */
export function secretReferences(job: Job): SecretReference[] {
  const container = job.spec.template.spec.containers.find((c) => c.name === TASK_CONTAINER);
  const refs = new Map<string, { keys: Set<string> | undefined; optional: boolean }>();
  const add = (name: unknown, key: string | undefined, optional: unknown) => {
    if (typeof name !== 'string' || name === '') return;
    const entry = refs.get(name) ?? { keys: new Set<string>(), optional: true };
    if (key === undefined) entry.keys = undefined;
    else entry.keys?.add(key);
    entry.optional &&= optional === true;
    refs.set(name, entry);
  };
  for (const variable of container?.env ?? []) {
    const ref = (variable['valueFrom'] as KubeJson | undefined)?.['secretKeyRef'] as KubeJson | undefined;
    if (ref && typeof ref['key'] === 'string') add(ref['name'], ref['key'], ref['optional']);
  }
  for (const source of container?.envFrom ?? []) {
    const ref = source['secretRef'] as KubeJson | undefined;
    if (ref) add(ref['name'], undefined, ref['optional']);
  }
  return [...refs].map(([name, { keys, optional }]) => ({ name, keys, optional }));
}

/** A Secret could not be read, so its values cannot be hidden; the message is the API's, never a value. */
export class SecretUnreadableError extends Error {
  override readonly name = 'SecretUnreadableError';
  readonly code = 'SECRET_UNREADABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Reads each referenced Secret and returns the decoded values of the keys the container uses (every
 * key for an `envFrom` source). An optional Secret that does not exist gives nothing, as it gives the
 * container nothing; a key the Secret lacks gives nothing either.
 * @throws SecretUnreadableError when a Secret cannot be read (403, a missing non-optional one, ...).
 */
export async function readSecretValues(client: KubeClient, namespace: string, refs: readonly SecretReference[]): Promise<string[]> {
  const values: string[] = [];
  for (const ref of refs) {
    let data: Record<string, string>;
    try {
      data = (await client.getSecret(namespace, ref.name)).data ?? {};
    } catch (err) {
      if (ref.optional && isKubeStatus(err, 404)) continue;
      throw new SecretUnreadableError(`the Secret ${namespace}/${ref.name} the task's env comes from could not be read, so its values could not be hidden in the task log: ${(err as Error).message}`, { cause: err });
    }
    for (const [key, encoded] of Object.entries(data)) {
      if (ref.keys && !ref.keys.has(key)) continue;
      const value = Buffer.from(encoded, 'base64').toString('utf8');
      if (value !== '') values.push(value);
    }
  }
  return values;
}
