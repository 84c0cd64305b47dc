/**
 * The `kubernetes:` block of a task, of `spec.defaults` and of a TaskTemplate's spec, read into a
 * {@link KubernetesSpec}. Field names are the Kubernetes API's; every problem is an issue at the
 * node's position with its field path. Structured pass-through objects (volumes, affinity,
 * securityContext, podTemplate) are checked for shape only.
 */
import { asBoolean, asInteger, asMap, asSeq, asString, childPath, Fields, IssueList, itemPath } from './fields';
import { quantityProblem } from './image-reference';
import { dnsLabelProblem, envNameProblem, labelKeyProblem, labelValueProblem } from './names';
import { didYouMean } from './suggest';
import {
  CLEANUP_POLICIES,
  type CleanupPolicy,
  type JsonObject,
  type KubernetesEnvFrom,
  type KubernetesEnvSource,
  type KubernetesResources,
  type KubernetesSpec,
  type KubernetesToleration,
  type KubernetesVolumeMount,
} from './kubernetes-spec';
import type { Position, TreeNode } from './yaml-tree';

const FIELDS = [
  'namespace', 'imagePullPolicy', 'env', 'envFrom', 'resources', 'volumes', 'volumeMounts', 'nodeSelector', 'tolerations',
  'affinity', 'serviceAccountName', 'imagePullSecrets', 'podSecurityContext', 'securityContext', 'labels', 'annotations',
  'podTemplate', 'cleanup',
];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TOLERATION_OPERATORS = ['Exists', 'Equal'];
const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A volume mount as written, for the check that it names a declared volume. */
export interface MountSite {
  readonly name: string;
  readonly pos: Position;
  readonly path: string;
}

/** A `kubernetes:` block read: the spec (best effort when it has issues) and where its mounts were written. */
export interface ReadKubernetes {
  readonly spec: KubernetesSpec;
  readonly mounts: readonly MountSite[];
}

/** The node as plain JSON (what pass-through objects are stored as). */
export function treeToJson(node: TreeNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(treeToJson);
  const out: Record<string, unknown> = {};
  for (const entry of node.entries) out[entry.key] = treeToJson(entry.value);
  return out;
}

function readObject(node: TreeNode, path: string, issues: IssueList): JsonObject | undefined {
  const map = asMap(node, path, issues);
  return map && (treeToJson(map) as JsonObject);
}

function readEnum<T extends string>(node: TreeNode, path: string, issues: IssueList, allowed: readonly string[]): T | undefined {
  const value = asString(node, path, issues);
  if (value === undefined) return undefined;
  if (allowed.includes(value)) return value as T;
  issues.add(node.pos, path, `unknown value ${JSON.stringify(value)}${didYouMean(value, allowed)}; expected one of ${allowed.join(', ')}`);
  return undefined;
}

/** A Kubernetes object name (Secret, ConfigMap, ServiceAccount, Volume): a DNS subdomain. */
function readObjectName(node: TreeNode, path: string, issues: IssueList, label = false): string | undefined {
  const name = asString(node, path, issues, { nonEmpty: true });
  if (name === undefined) return undefined;
  const problem = label ? dnsLabelProblem(name) : name.length > 253 || !DNS_SUBDOMAIN.test(name) ? `${JSON.stringify(name)} is not a valid Kubernetes name: lowercase letters, digits, '-' and '.', at most 253 characters` : undefined;
  if (problem !== undefined) {
    issues.add(node.pos, path, problem);
    return undefined;
  }
  return name;
}

function readStringMap(node: TreeNode, path: string, issues: IssueList, kind: 'label' | 'annotation' | 'selector'): Record<string, string> {
  const out: Record<string, string> = {};
  const map = asMap(node, path, issues);
  for (const entry of map?.entries ?? []) {
    const p = childPath(path, entry.key);
    const keyProblem = labelKeyProblem(entry.key);
    if (keyProblem !== undefined) issues.add(entry.keyPos, p, keyProblem);
    const value = asString(entry.value, p, issues);
    if (value === undefined) continue;
    const valueProblem = kind === 'annotation' ? undefined : labelValueProblem(value);
    if (valueProblem !== undefined) issues.add(entry.value.pos, p, valueProblem);
    out[entry.key] = value;
  }
  return out;
}

function readKeyRef(node: TreeNode, path: string, issues: IssueList): { name: string; key: string; optional?: boolean } | undefined {
  const map = asMap(node, path, issues);
  if (!map) return undefined;
  const f = new Fields(map, path, ['name', 'key', 'optional'], ['name', 'key'], issues);
  const nameNode = f.getRequired('name');
  const keyNode = f.getRequired('key');
  const optionalNode = f.get('optional');
  const name = nameNode && readObjectName(nameNode, f.pathOf('name'), issues);
  const key = keyNode && asString(keyNode, f.pathOf('key'), issues, { nonEmpty: true });
  const optional = optionalNode && asBoolean(optionalNode, f.pathOf('optional'), issues);
  if (name === undefined || key === undefined) return undefined;
  return { name, key, ...(optional !== undefined && { optional }) };
}

function readEnvValueFrom(node: TreeNode, path: string, issues: IssueList): KubernetesEnvFrom[] {
  const out: KubernetesEnvFrom[] = [];
  const seen = new Set<string>();
  asSeq(node, path, issues, ' of {name, valueFrom: {secretKeyRef | configMapKeyRef}}')?.items.forEach((item, i) => {
    const p = itemPath(path, i);
    const map = asMap(item, p, issues);
    if (!map) return;
    const f = new Fields(map, p, ['name', 'valueFrom'], ['name', 'valueFrom'], issues);
    const nameNode = f.getRequired('name');
    const name = nameNode && asString(nameNode, f.pathOf('name'), issues, { nonEmpty: true });
    if (nameNode && name !== undefined) {
      const problem = envNameProblem(name) ?? (seen.has(name) ? `duplicate env var ${JSON.stringify(name)}` : undefined);
      if (problem !== undefined) issues.add(nameNode.pos, f.pathOf('name'), problem);
      seen.add(name);
    }
    const fromNode = f.getRequired('valueFrom');
    const fromMap = fromNode && asMap(fromNode, f.pathOf('valueFrom'), issues);
    if (!fromMap) return;
    const from = new Fields(fromMap, f.pathOf('valueFrom'), ['secretKeyRef', 'configMapKeyRef'], [], issues);
    const secret = from.get('secretKeyRef');
    const configMap = from.get('configMapKeyRef');
    if ((secret === undefined) === (configMap === undefined)) {
      issues.add(fromMap.pos, f.pathOf('valueFrom'), 'must set exactly one of secretKeyRef or configMapKeyRef');
      return;
    }
    const ref = readKeyRef((secret ?? configMap) as TreeNode, from.pathOf(secret ? 'secretKeyRef' : 'configMapKeyRef'), issues);
    if (!ref || name === undefined) return;
    out.push({ name, valueFrom: secret ? { secretKeyRef: ref } : { configMapKeyRef: ref } });
  });
  return out;
}

function readEnvFrom(node: TreeNode, path: string, issues: IssueList): KubernetesEnvSource[] {
  const out: KubernetesEnvSource[] = [];
  asSeq(node, path, issues)?.items.forEach((item, i) => {
    const p = itemPath(path, i);
    const map = asMap(item, p, issues);
    if (!map) return;
    const f = new Fields(map, p, ['prefix', 'secretRef', 'configMapRef'], [], issues);
    const prefixNode = f.get('prefix');
    const prefix = prefixNode && asString(prefixNode, f.pathOf('prefix'), issues);
    const refs: Partial<Record<'secretRef' | 'configMapRef', { name: string; optional?: boolean }>> = {};
    for (const key of ['secretRef', 'configMapRef'] as const) {
      const refNode = f.get(key);
      const refMap = refNode && asMap(refNode, f.pathOf(key), issues);
      if (!refMap) continue;
      const rf = new Fields(refMap, f.pathOf(key), ['name', 'optional'], ['name'], issues);
      const nameNode = rf.getRequired('name');
      const name = nameNode && readObjectName(nameNode, rf.pathOf('name'), issues);
      const optionalNode = rf.get('optional');
      const optional = optionalNode && asBoolean(optionalNode, rf.pathOf('optional'), issues);
      if (name !== undefined) refs[key] = { name, ...(optional !== undefined && { optional }) };
    }
    if ((f.get('secretRef') === undefined) === (f.get('configMapRef') === undefined)) {
      issues.add(map.pos, p, 'must set exactly one of secretRef or configMapRef');
      return;
    }
    out.push({ ...(prefix !== undefined && { prefix }), ...refs });
  });
  return out;
}

function readResources(node: TreeNode, path: string, issues: IssueList): KubernetesResources | undefined {
  const map = asMap(node, path, issues);
  if (!map) return undefined;
  const f = new Fields(map, path, ['requests', 'limits'], [], issues);
  const out: { requests?: Record<string, string>; limits?: Record<string, string> } = {};
  for (const key of ['requests', 'limits'] as const) {
    const listNode = f.get(key);
    const listMap = listNode && asMap(listNode, f.pathOf(key), issues);
    if (!listMap) continue;
    const quantities: Record<string, string> = {};
    for (const entry of listMap.entries) {
      const p = childPath(f.pathOf(key), entry.key);
      const keyProblem = labelKeyProblem(entry.key);
      if (keyProblem !== undefined) issues.add(entry.keyPos, p, keyProblem.replace('label key', 'resource name'));
      // `cpu: 2` and `cpu: 0.5` are numbers in YAML but fine quantities.
      const raw = entry.value.kind === 'scalar' && typeof entry.value.value === 'number' ? String(entry.value.value) : asString(entry.value, p, issues);
      if (raw === undefined) continue;
      const problem = quantityProblem(raw);
      if (problem !== undefined) issues.add(entry.value.pos, p, problem);
      else quantities[entry.key] = raw;
    }
    out[key] = quantities;
  }
  return out;
}

function readVolumes(node: TreeNode, path: string, issues: IssueList): JsonObject[] {
  const out: JsonObject[] = [];
  const seen = new Set<string>();
  asSeq(node, path, issues)?.items.forEach((item, i) => {
    const p = itemPath(path, i);
    const map = asMap(item, p, issues);
    if (!map) return;
    const nameEntry = map.entries.find((e) => e.key === 'name');
    if (!nameEntry) {
      issues.add(map.pos, childPath(p, 'name'), 'missing required field "name"');
      return;
    }
    const name = readObjectName(nameEntry.value, childPath(p, 'name'), issues, true);
    if (name === undefined) return;
    if (seen.has(name)) issues.add(nameEntry.value.pos, childPath(p, 'name'), `duplicate volume ${JSON.stringify(name)}`);
    seen.add(name);
    if (map.entries.length < 2) issues.add(map.pos, p, `volume ${JSON.stringify(name)} needs a source such as emptyDir, configMap, secret or persistentVolumeClaim`);
    out.push(treeToJson(map) as JsonObject);
  });
  return out;
}

function readVolumeMounts(node: TreeNode, path: string, issues: IssueList, mounts: MountSite[]): KubernetesVolumeMount[] {
  const out: KubernetesVolumeMount[] = [];
  asSeq(node, path, issues)?.items.forEach((item, i) => {
    const p = itemPath(path, i);
    const map = asMap(item, p, issues);
    if (!map) return;
    const f = new Fields(map, p, ['name', 'mountPath', 'readOnly', 'subPath'], ['name', 'mountPath'], issues);
    const nameNode = f.getRequired('name');
    const name = nameNode && asString(nameNode, f.pathOf('name'), issues, { nonEmpty: true });
    const mountPathNode = f.getRequired('mountPath');
    const mountPath = mountPathNode && asString(mountPathNode, f.pathOf('mountPath'), issues, { nonEmpty: true });
    if (mountPathNode && mountPath !== undefined && !mountPath.startsWith('/')) issues.add(mountPathNode.pos, f.pathOf('mountPath'), 'must be an absolute path');
    const readOnlyNode = f.get('readOnly');
    const readOnly = readOnlyNode && asBoolean(readOnlyNode, f.pathOf('readOnly'), issues);
    const subPathNode = f.get('subPath');
    const subPath = subPathNode && asString(subPathNode, f.pathOf('subPath'), issues);
    if (name === undefined || mountPath === undefined || !nameNode) return;
    mounts.push({ name, pos: nameNode.pos, path: f.pathOf('name') });
    out.push({ name, mountPath, ...(readOnly !== undefined && { readOnly }), ...(subPath !== undefined && { subPath }) });
  });
  return out;
}

function readTolerations(node: TreeNode, path: string, issues: IssueList): KubernetesToleration[] {
  const out: KubernetesToleration[] = [];
  asSeq(node, path, issues)?.items.forEach((item, i) => {
    const p = itemPath(path, i);
    const map = asMap(item, p, issues);
    if (!map) return;
    const f = new Fields(map, p, ['key', 'operator', 'value', 'effect', 'tolerationSeconds'], [], issues);
    const str = (key: string) => {
      const n = f.get(key);
      return n && asString(n, f.pathOf(key), issues);
    };
    const operatorNode = f.get('operator');
    const effectNode = f.get('effect');
    const secondsNode = f.get('tolerationSeconds');
    const key = str('key');
    const value = str('value');
    const operator = operatorNode && readEnum<'Exists' | 'Equal'>(operatorNode, f.pathOf('operator'), issues, TOLERATION_OPERATORS);
    const effect = effectNode && readEnum<'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'>(effectNode, f.pathOf('effect'), issues, TOLERATION_EFFECTS);
    const tolerationSeconds = secondsNode && asInteger(secondsNode, f.pathOf('tolerationSeconds'), issues, 0);
    if (operator === 'Exists' && value !== undefined) issues.add(map.pos, f.pathOf('value'), 'must be empty when operator is Exists');
    out.push({
      ...(key !== undefined && { key }),
      ...(operator !== undefined && { operator }),
      ...(value !== undefined && { value }),
      ...(effect !== undefined && { effect }),
      ...(tolerationSeconds !== undefined && { tolerationSeconds }),
    });
  });
  return out;
}

function readPullSecrets(node: TreeNode, path: string, issues: IssueList): string[] {
  const out: string[] = [];
  asSeq(node, path, issues)?.items.forEach((item, i) => {
    const p = itemPath(path, i);
    // Both the short form (`- regcred`) and the API's (`- name: regcred`) are accepted.
    const nameNode = item.kind === 'map' ? new Fields(item, p, ['name'], ['name'], issues).getRequired('name') : item;
    const name = nameNode && readObjectName(nameNode, item.kind === 'map' ? childPath(p, 'name') : p, issues);
    if (name !== undefined) out.push(name);
  });
  return out;
}

/** Reads a `kubernetes:` block. */
export function readKubernetes(node: TreeNode, path: string, issues: IssueList): ReadKubernetes {
  const mounts: MountSite[] = [];
  const map = asMap(node, path, issues);
  if (!map) return { spec: {}, mounts };
  const f = new Fields(map, path, FIELDS, [], issues);
  const at = (key: string) => f.get(key);
  const p = (key: string) => f.pathOf(key);
  const n = {
    namespace: at('namespace'), imagePullPolicy: at('imagePullPolicy'), env: at('env'), envFrom: at('envFrom'),
    resources: at('resources'), volumes: at('volumes'), volumeMounts: at('volumeMounts'), nodeSelector: at('nodeSelector'),
    tolerations: at('tolerations'), affinity: at('affinity'), serviceAccountName: at('serviceAccountName'),
    imagePullSecrets: at('imagePullSecrets'), podSecurityContext: at('podSecurityContext'), securityContext: at('securityContext'),
    labels: at('labels'), annotations: at('annotations'), podTemplate: at('podTemplate'), cleanup: at('cleanup'),
  };
  const spec: KubernetesSpec = {
    ...(n.namespace && { namespace: readObjectName(n.namespace, p('namespace'), issues, true) }),
    ...(n.imagePullPolicy && { imagePullPolicy: readEnum<'Always' | 'IfNotPresent' | 'Never'>(n.imagePullPolicy, p('imagePullPolicy'), issues, PULL_POLICIES) }),
    ...(n.env && { envValueFrom: readEnvValueFrom(n.env, p('env'), issues) }),
    ...(n.envFrom && { envFrom: readEnvFrom(n.envFrom, p('envFrom'), issues) }),
    ...(n.resources && { resources: readResources(n.resources, p('resources'), issues) }),
    ...(n.volumes && { volumes: readVolumes(n.volumes, p('volumes'), issues) }),
    ...(n.volumeMounts && { volumeMounts: readVolumeMounts(n.volumeMounts, p('volumeMounts'), issues, mounts) }),
    ...(n.nodeSelector && { nodeSelector: readStringMap(n.nodeSelector, p('nodeSelector'), issues, 'selector') }),
    ...(n.tolerations && { tolerations: readTolerations(n.tolerations, p('tolerations'), issues) }),
    ...(n.affinity && { affinity: readObject(n.affinity, p('affinity'), issues) }),
    ...(n.serviceAccountName && { serviceAccountName: readObjectName(n.serviceAccountName, p('serviceAccountName'), issues) }),
    ...(n.imagePullSecrets && { imagePullSecrets: readPullSecrets(n.imagePullSecrets, p('imagePullSecrets'), issues) }),
    ...(n.podSecurityContext && { podSecurityContext: readObject(n.podSecurityContext, p('podSecurityContext'), issues) }),
    ...(n.securityContext && { securityContext: readObject(n.securityContext, p('securityContext'), issues) }),
    ...(n.labels && { labels: readStringMap(n.labels, p('labels'), issues, 'label') }),
    ...(n.annotations && { annotations: readStringMap(n.annotations, p('annotations'), issues, 'annotation') }),
    ...(n.podTemplate && { podTemplate: readObject(n.podTemplate, p('podTemplate'), issues) }),
    ...(n.cleanup && { cleanup: readEnum<CleanupPolicy>(n.cleanup, p('cleanup'), issues, CLEANUP_POLICIES) }),
  };
  for (const [key, value] of Object.entries(spec)) if (value === undefined) delete (spec as Record<string, unknown>)[key];
  if (n.labels) {
    for (const entry of (n.labels.kind === 'map' ? n.labels.entries : [])) {
      if (entry.key.startsWith('skein.dev/') || entry.key.startsWith('app.kubernetes.io/')) {
        issues.add(entry.keyPos, childPath(p('labels'), entry.key), `label ${JSON.stringify(entry.key)} is reserved: Skein sets skein.dev/* and app.kubernetes.io/* itself`);
      }
    }
  }
  return { spec, mounts };
}
