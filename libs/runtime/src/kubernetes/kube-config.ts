import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { KubeConfigError } from './errors';

/** How to reach and authenticate to a Kubernetes API server. */
export interface KubeConnection {
  /** `https://host:port` (or `http://` for the fake server in tests). */
  readonly server: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** The bearer token for the next request; called per request so a rotated token file is picked up. */
  readonly token?: () => string | undefined;
  readonly insecureSkipTlsVerify?: boolean;
}

/** Where a pod's service account credentials are mounted. */
export const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The connection of a process running in a pod: `KUBERNETES_SERVICE_HOST`/`_PORT` (passed in by
 * `main`, since libraries do not read the environment) and the mounted service account token and CA.
 */
export function inClusterConnection(host: string, port: string, dir: string = IN_CLUSTER_DIR): KubeConnection {
  const tokenPath = path.join(dir, 'token');
  let ca: Buffer;
  try {
    ca = readFileSync(path.join(dir, 'ca.crt'));
    readFileSync(tokenPath);
  } catch (err) {
    throw new KubeConfigError(`no service account credentials under ${dir}: is the executor running in a pod with a service account? (${(err as Error).message})`, { cause: err });
  }
  const bracketed = host.includes(':') ? `[${host}]` : host;
  let cached = { text: '', readAt: 0 };
  return {
    server: `https://${bracketed}:${port}`,
    ca,
    token: () => {
      // Re-read at most once a minute: kubelet rotates the projected token well before it expires.
      if (Date.now() - cached.readAt > 60_000) cached = { text: readFileSync(tokenPath, 'utf8').trim(), readAt: Date.now() };
      return cached.text;
    },
  };
}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context: { cluster: string; user?: string; namespace?: string } }>;
}

/** A kubeconfig's connection plus the namespace its context names. */
export interface KubeconfigConnection extends KubeConnection {
  readonly namespace?: string;
}

/**
 * Reads a kubeconfig file (the `kubectl` format): the named context or the current one; token,
 * token file or client certificate auth. Exec and auth-provider plugins are not supported: the
 * error says so, and running in-cluster needs neither.
 */
export function kubeconfigConnection(file: string, contextName?: string): KubeconfigConnection {
  let config: KubeconfigFile;
  try {
    config = parse(readFileSync(file, 'utf8')) as KubeconfigFile;
  } catch (err) {
    throw new KubeConfigError(`cannot read kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
  }
  const dir = path.dirname(file);
  const name = contextName ?? config['current-context'];
  const context = config.contexts?.find((c) => c.name === name)?.context;
  if (!name || !context) throw new KubeConfigError(`kubeconfig ${file} has no context ${JSON.stringify(name ?? '')}: set current-context or pass a context name`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster['server'] !== 'string') throw new KubeConfigError(`kubeconfig ${file}: context ${name} names cluster ${context.cluster}, which has no server`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  if (user['exec'] || user['auth-provider']) {
    throw new KubeConfigError(`kubeconfig ${file}: user ${context.user} uses an exec or auth-provider plugin, which Skein does not run; use a token or client certificate`);
  }
  const material = (dataKey: string, fileKey: string, from: Record<string, unknown>): Buffer | undefined => {
    const data = from[dataKey];
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    const ref = from[fileKey];
    return typeof ref === 'string' ? readFileSync(path.resolve(dir, ref)) : undefined;
  };
  const token = typeof user['token'] === 'string' ? user['token'] : undefined;
  const tokenFile = typeof user['tokenFile'] === 'string' ? path.resolve(dir, user['tokenFile']) : undefined;
  return {
    server: cluster['server'],
    ca: material('certificate-authority-data', 'certificate-authority', cluster),
    cert: material('client-certificate-data', 'client-certificate', user),
    key: material('client-key-data', 'client-key', user),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    ...((token || tokenFile) && { token: () => token ?? readFileSync(tokenFile ?? '', 'utf8').trim() }),
    ...(context.namespace && { namespace: context.namespace }),
  };
}
