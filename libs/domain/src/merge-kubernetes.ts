/**
 * Layering Kubernetes settings: workflow defaults < template < task. Scalars and pass-through
 * objects of the upper layer replace the lower's; maps (labels, nodeSelector, resources) merge by key;
 * lists of named things (env, volumes, volumeMounts, imagePullSecrets) merge by name, the upper layer's
 * item replacing a lower one of the same name; tolerations merge by key+effect.
 */
import type { JsonObject, KubernetesSpec } from './kubernetes-spec';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Merges `upper` items over `lower` ones with the same identity; lower order first, new ones after. */
export function mergeByName<T>(lower: readonly T[] | undefined, upper: readonly T[] | undefined, id: (item: T) => string): T[] | undefined {
  if (!lower) return upper && [...upper];
  if (!upper) return [...lower];
  const upperById = new Map(upper.map((item) => [id(item), item]));
  const merged = lower.map((item) => upperById.get(id(item)) ?? item);
  const lowerIds = new Set(lower.map(id));
  return [...merged, ...upper.filter((item) => !lowerIds.has(id(item)))];
}

function mergeMap<V>(lower: Readonly<Record<string, V>> | undefined, upper: Readonly<Record<string, V>> | undefined): Record<string, V> | undefined {
  if (!lower && !upper) return undefined;
  return { ...lower, ...upper };
}

const volumeName = (v: JsonObject) => String(v['name'] ?? '');

/** `upper` over `lower` (either may be absent); undefined when both are. */
export function mergeKubernetesSpec(lower: KubernetesSpec | undefined, upper: KubernetesSpec | undefined): KubernetesSpec | undefined {
  if (!lower) return upper;
  if (!upper) return lower;
  const out: Mutable<KubernetesSpec> = { ...lower, ...upper };
  const set = <K extends keyof KubernetesSpec>(key: K, value: KubernetesSpec[K] | undefined) => {
    if (value === undefined) delete out[key];
    else out[key] = value;
  };
  set('envValueFrom', mergeByName(lower.envValueFrom, upper.envValueFrom, (e) => e.name));
  set('envFrom', mergeByName(lower.envFrom, upper.envFrom, (e) => `${e.secretRef ? 's' : 'c'}:${(e.secretRef ?? e.configMapRef)?.name ?? ''}:${e.prefix ?? ''}`));
  set('volumes', mergeByName(lower.volumes, upper.volumes, volumeName));
  set('volumeMounts', mergeByName(lower.volumeMounts, upper.volumeMounts, (m) => m.mountPath));
  set('tolerations', mergeByName(lower.tolerations, upper.tolerations, (t) => `${t.key ?? ''}:${t.effect ?? ''}`));
  set('imagePullSecrets', mergeByName(lower.imagePullSecrets, upper.imagePullSecrets, (s) => s));
  set('nodeSelector', mergeMap(lower.nodeSelector, upper.nodeSelector));
  set('labels', mergeMap(lower.labels, upper.labels));
  set('annotations', mergeMap(lower.annotations, upper.annotations));
  if (lower.resources || upper.resources) {
    const requests = mergeMap(lower.resources?.requests, upper.resources?.requests);
    const limits = mergeMap(lower.resources?.limits, upper.resources?.limits);
    out.resources = { ...(requests && { requests }), ...(limits && { limits }) };
  }
  return out;
}

/** Names of the volumes a spec declares (its own and its podTemplate's). */
export function declaredVolumes(spec: KubernetesSpec | undefined): Set<string> {
  const names = new Set((spec?.volumes ?? []).map(volumeName));
  const templateSpec = spec?.podTemplate?.['spec'];
  const templateVolumes = templateSpec && typeof templateSpec === 'object' ? (templateSpec as JsonObject)['volumes'] : undefined;
  if (Array.isArray(templateVolumes)) {
    for (const v of templateVolumes) if (v && typeof v === 'object') names.add(volumeName(v as JsonObject));
  }
  return names;
}

/** The mounts of `spec` that name no declared volume. */
export function undeclaredMounts(spec: KubernetesSpec | undefined): string[] {
  const declared = declaredVolumes(spec);
  return (spec?.volumeMounts ?? []).map((m) => m.name).filter((name) => !declared.has(name));
}
