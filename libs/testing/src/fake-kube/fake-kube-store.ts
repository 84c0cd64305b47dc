/** Objects of the fake API server with resourceVersions and a watch history. */

export type KubeObject = { metadata: { name: string; namespace: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; creationTimestamp?: string; [key: string]: unknown }; [key: string]: unknown };
export type Resource = 'jobs' | 'pods' | 'secrets';
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  readonly rv: number;
  readonly resource: Resource;
  readonly type: EventType;
  readonly object: KubeObject;
}

/** `a=b,c=d` → matcher (equality selectors only: all Skein uses). */
export function matchesSelector(selector: string | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=');
    return key !== undefined && labels?.[key.trim()] === value?.trim();
  });
}

/**
 * The fake's etcd: one resourceVersion counter across all objects (as in the real API server), the
 * events since the oldest version still held (older versions answer 410 Gone), and live listeners.
 */
export class FakeKubeStore {
  private rv = 1000;
  private uid = 0;
  private readonly objects: Record<Resource, Map<string, KubeObject>> = { jobs: new Map(), pods: new Map(), secrets: new Map() };
  private history: StoredEvent[] = [];
  /** Versions at or below this are gone (410). */
  private compactedTo = 0;
  private readonly listeners = new Set<(event: StoredEvent) => void>();

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestVersion(): number {
    return this.compactedTo;
  }

  get(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    return this.objects[resource].get(`${namespace}/${name}`);
  }

  list(resource: Resource, namespace: string | undefined, selector: string | null): KubeObject[] {
    return [...this.objects[resource].values()].filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && matchesSelector(selector, o.metadata.labels));
  }

  /** Adds a new object; false when one of that name exists. */
  create(resource: Resource, object: KubeObject): KubeObject | undefined {
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    if (this.objects[resource].has(key)) return undefined;
    object.metadata.uid = `uid-${++this.uid}`;
    object.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return this.write(resource, 'ADDED', object);
  }

  update(resource: Resource, object: KubeObject): KubeObject {
    return this.write(resource, 'MODIFIED', object);
  }

  delete(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    const object = this.get(resource, namespace, name);
    if (!object) return undefined;
    this.objects[resource].delete(`${namespace}/${name}`);
    return this.write(resource, 'DELETED', structuredClone(object));
  }

  /** Events after `rv` of one resource, or `undefined` when `rv` is older than the history (410). */
  since(resource: Resource, rv: number): StoredEvent[] | undefined {
    if (rv < this.compactedTo) return undefined;
    return this.history.filter((e) => e.resource === resource && e.rv > rv);
  }

  /** Forgets the history, as etcd compaction does: every watch from an older version gets 410 Gone. */
  compact(): void {
    this.compactedTo = this.rv;
    this.history = [];
  }

  onEvent(listener: (event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write(resource: Resource, type: EventType, object: KubeObject): KubeObject {
    this.rv += 1;
    object.metadata.resourceVersion = String(this.rv);
    if (type !== 'DELETED') this.objects[resource].set(`${object.metadata.namespace}/${object.metadata.name}`, object);
    const event: StoredEvent = { rv: this.rv, resource, type, object: structuredClone(object) };
    this.history.push(event);
    for (const listener of [...this.listeners]) listener(event);
    return object;
  }
}
