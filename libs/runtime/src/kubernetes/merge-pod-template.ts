type Json = unknown;

function isObject(value: Json): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isNamedList(value: Json): value is Array<Record<string, unknown>> {
  return Array.isArray(value) && value.every((item) => isObject(item) && typeof item['name'] === 'string');
}

/**
 * Merges a user's partial pod template over the generated one, the way users expect from kustomize's
 * strategic merge: objects are merged key by key, lists of named items (containers, env, volumes,
 * volumeMounts, ...) are merged item by item by `name` (new names appended), any other value of the
 * override replaces the base's. Returns a new value; neither input is changed.
 */
export function mergePodTemplate<T>(base: T, override: Json): T {
  return mergeValue(base, override) as T;
}

function mergeValue(base: Json, override: Json): Json {
  if (override === undefined) return base;
  if (isObject(base) && isObject(override)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) out[key] = mergeValue(base[key], value);
    return out;
  }
  if (isNamedList(base) && isNamedList(override)) {
    const out = base.map((item) => ({ ...item }));
    for (const item of override) {
      const at = out.findIndex((existing) => existing['name'] === item['name']);
      if (at === -1) out.push(item);
      else out[at] = mergeValue(out[at], item) as Record<string, unknown>;
    }
    return out;
  }
  return override;
}
