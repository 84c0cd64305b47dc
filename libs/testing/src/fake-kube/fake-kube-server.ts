import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FakeKubeStore, matchesSelector, type KubeObject, type Resource, type StoredEvent } from './fake-kube-store';
import { FakePod, type PodScenario } from './fake-pod-runner';

/** A canned answer for the next matching request(s): an HTTP status, or `drop` to cut the connection. */
export interface InjectedFailure {
  /** `create`, `get`, `list`, `watch`, `delete`. */
  readonly verb: string;
  /** `jobs`, `pods`, `pods/log`, `secrets`. */
  readonly resource: string;
  readonly status: number | 'drop';
  /** How many requests get it. @default 1 */
  readonly times?: number;
  readonly message?: string;
}

/** Options of {@link startFakeKubeServer}. */
export interface FakeKubeServerOptions {
  /**
   * The images' filesystem: a container command with an absolute path (`/usr/local/bin/score`) runs
   * the file at that path under this directory when it exists there. @default none (the host's paths)
   */
  readonly imageRoot?: string;
}

/** The fake Kubernetes API server. */
export interface FakeKubeServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly store: FakeKubeStore;
  /** Calls so far by `"<verb> <resource>"`, e.g. `"create jobs"`, `"watch pods"`, `"get pods/log"`. */
  calls(): Record<string, number>;
  resetCalls(): void;
  /**
   * What the pods of Jobs whose labels match `selector` (`skein.dev/task=extract`) do; with `times`,
   * only the pods of the next `times` such Jobs (e.g. a first attempt OOMKilled, its retry not).
   */
  scenario(selector: string, scenario: PodScenario, options?: { times?: number }): void;
  /**
   * Creates a v1 Secret (type Opaque) whose `data` holds `values` base64-encoded, as the real API
   * stores it. Also possible over HTTP: POST /api/v1/namespaces/{ns}/secrets.
   */
  createSecret(namespace: string, name: string, values: Record<string, string>): void;
  /** Objects ever created (201) whose labels match `selector`: a Job adopted after a 409 is not counted twice. */
  created(resource: Resource, selector?: string): number;
  /** Answers the next matching requests with an error (409, 429, 500, ...) or a dropped connection. */
  failNext(failure: InjectedFailure): void;
  /** Cuts every open watch stream (the client must resume from its last resourceVersion). */
  dropWatches(): void;
  /** Compacts the history and ends every open watch with an ERROR 410 Gone event (the client must list again). */
  expireWatches(): void;
  /** Cuts every open log stream mid-way. */
  dropLogStreams(): void;
  /** Number of watch and log streams open now. */
  openStreams(): { watches: number; logs: number };
  /** Resolves when the predicate holds for some store event (checked on every change, and at once). */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'AlreadyExists', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError' };

/**
 * Starts a fake Kubernetes API server on 127.0.0.1:0 speaking the real JSON: batch/v1 Jobs, v1 Secrets
 * (create/get; a 403 comes from `failNext`) and v1 Pods with resourceVersions, create/get/list/delete (409 on a duplicate), watch streams (chunked,
 * one JSON event per line, ERROR 410 for an expired version), and pods/log with follow, timestamps
 * and sinceTime (compared at whole seconds, as the real one does). A Job controller makes one pod per
 * Job and runs its container's command as a local process.
 */
export async function startFakeKubeServer(options: FakeKubeServerOptions = {}): Promise<FakeKubeServer> {
  const store = new FakeKubeStore();
  const pods = new Map<string, FakePod>();
  const scenarios: Array<{ selector: string; scenario: PodScenario; left: number }> = [];
  const createdLabels: Array<{ resource: Resource; labels: Record<string, string> | undefined }> = [];
  const failures: Array<InjectedFailure & { left: number }> = [];
  const counts: Record<string, number> = {};
  const watches = new Set<http.ServerResponse>();
  const logs = new Set<http.ServerResponse>();
  const sockets = new Set<Socket>();
  const deadlines = new Map<string, NodeJS.Timeout>();
  const changeWaiters = new Set<() => void>();
  const notify = () => { for (const wake of [...changeWaiters]) wake(); };
  store.onEvent(notify);

  // The Job controller: a pod per new Job; the Job's pods go when it is deleted.
  store.onEvent((event) => {
    if (event.resource !== 'jobs') return;
    const job = event.object;
    const key = `${job.metadata.namespace}/${job.metadata.name}`;
    if (event.type === 'ADDED') setImmediate(() => createPod(job));
    if (event.type === 'DELETED') {
      clearTimeout(deadlines.get(key));
      for (const pod of store.list('pods', job.metadata.namespace, `job-name=${job.metadata.name}`)) {
        pods.get(`${pod.metadata.namespace}/${pod.metadata.name}`)?.kill();
        pods.delete(`${pod.metadata.namespace}/${pod.metadata.name}`);
        store.delete('pods', pod.metadata.namespace, pod.metadata.name);
      }
    }
  });

  function createPod(job: KubeObject): void {
    if (!store.get('jobs', job.metadata.namespace, job.metadata.name)) return;
    const spec = job['spec'] as { template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: unknown }; activeDeadlineSeconds?: number };
    const name = `${job.metadata.name}-${Math.random().toString(36).slice(2, 7).padEnd(5, 'x')}`;
    const pod = store.create('pods', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name, namespace: job.metadata.namespace,
        labels: { ...spec.template.metadata?.labels, 'job-name': job.metadata.name, 'batch.kubernetes.io/job-name': job.metadata.name },
        annotations: { ...spec.template.metadata?.annotations },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true }],
      },
      spec: structuredClone(spec.template.spec),
      status: { phase: 'Pending' },
    });
    if (!pod) return;
    const entry = scenarios.find((s) => s.left > 0 && matchesSelector(s.selector, job.metadata.labels));
    if (entry) entry.left -= 1;
    const fake = new FakePod(store, pod, entry?.scenario ?? {}, options.imageRoot);
    pods.set(`${pod.metadata.namespace}/${name}`, fake);
    if (spec.activeDeadlineSeconds) {
      deadlines.set(`${job.metadata.namespace}/${job.metadata.name}`, setTimeout(() => fake.kill('DeadlineExceeded'), spec.activeDeadlineSeconds * 1000));
    }
    fake.start();
  }

  function count(key: string): void {
    counts[key] = (counts[key] ?? 0) + 1;
    setImmediate(notify);
  }

  function send(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function injected(verb: string, resource: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const failure = failures.find((f) => f.verb === verb && f.resource === resource && f.left > 0);
    if (!failure) return false;
    failure.left -= 1;
    if (failure.status === 'drop') {
      req.socket.destroy();
      return true;
    }
    send(res, failure.status, status(failure.status, REASONS[failure.status] ?? 'Unknown', failure.message ?? `injected ${failure.status}`));
    return true;
  }

  function readBody(req: http.IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  function serveWatch(resource: Resource, namespace: string, url: URL, res: http.ServerResponse): void {
    const selector = url.searchParams.get('labelSelector');
    const from = Number(url.searchParams.get('resourceVersion') || store.resourceVersion);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const backlog = store.since(resource, from);
    if (!backlog) {
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${store.oldestVersion})`) }) + '\n');
      return;
    }
    const write = (event: StoredEvent) => {
      if (event.resource !== resource || event.object.metadata.namespace !== namespace || !matchesSelector(selector, event.object.metadata.labels)) return;
      res.write(JSON.stringify({ type: event.type, object: event.object }) + '\n');
    };
    for (const event of backlog) write(event);
    const off = store.onEvent(write);
    watches.add(res);
    setImmediate(notify);
    const timeout = Number(url.searchParams.get('timeoutSeconds') || 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      off();
      clearTimeout(timer);
      watches.delete(res);
      notify();
    });
  }

  function serveLog(namespace: string, name: string, url: URL, res: http.ServerResponse): void {
    const pod = pods.get(`${namespace}/${name}`);
    if (!pod) return send(res, 404, status(404, 'NotFound', `pods "${name}" not found`));
    const follow = url.searchParams.get('follow') === 'true';
    const timestamps = url.searchParams.get('timestamps') === 'true';
    const since = url.searchParams.get('sinceTime');
    // meta/v1 Time has whole seconds: a sinceTime is compared at second resolution.
    const sinceKey = since ? new Date(since).toISOString().slice(0, 19) : '';
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    let sent = 0;
    const flush = () => {
      let out = '';
      for (; sent < pod.log.length; sent++) {
        const line = pod.log[sent];
        if (!line || line.stamp.slice(0, 19) < sinceKey) continue;
        out += `${timestamps ? `${line.stamp} ` : ''}${line.text}\n`;
      }
      if (out) res.write(out);
      if (!follow || pod.terminated) res.end();
    };
    flush();
    if (res.writableEnded) return;
    const off = pod.onLog(flush);
    logs.add(res);
    res.on('close', () => {
      off();
      logs.delete(res);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/(?:apis\/batch\/v1|api\/v1)\/namespaces\/([^/]+)\/(jobs|pods|secrets)(?:\/([^/]+))?(\/log)?$/.exec(url.pathname);
    if (!match) return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource ${url.pathname}`));
    const [, namespace = '', resource = 'jobs', name, log] = match as unknown as [string, string, Resource, string | undefined, string | undefined];
    const watch = url.searchParams.get('watch') === 'true';
    const verb = req.method === 'POST' ? 'create' : req.method === 'DELETE' ? 'delete' : log ? 'get' : watch ? 'watch' : name ? 'get' : 'list';
    const resourceKey = log ? 'pods/log' : resource;
    count(`${verb} ${resourceKey}`);
    if (injected(verb, resourceKey, req, res)) return;
    // Skein only ever reads one Secret by name (the executor's optional grant has no list or watch).
    if (resource === 'secrets' && verb !== 'get' && verb !== 'create') return send(res, 405, status(405, 'MethodNotAllowed', `${verb} of secrets is not served`));
    if (log && name) return serveLog(namespace, name, url, res);
    if (watch) return serveWatch(resource, namespace, url, res);
    if (verb === 'create') {
      const object = JSON.parse(await readBody(req)) as KubeObject;
      object.metadata.namespace = namespace;
      const created = store.create(resource, object);
      if (!created) return send(res, 409, status(409, 'AlreadyExists', `${resource}${resource === 'jobs' ? '.batch' : ''} "${object.metadata.name}" already exists`));
      createdLabels.push({ resource, labels: created.metadata.labels });
      return send(res, 201, created);
    }
    if (verb === 'list') {
      const items = store.list(resource, namespace, url.searchParams.get('labelSelector'));
      return send(res, 200, { apiVersion: resource === 'jobs' ? 'batch/v1' : 'v1', kind: resource === 'jobs' ? 'JobList' : 'PodList', metadata: { resourceVersion: String(store.resourceVersion) }, items });
    }
    if (!name) return send(res, 405, status(405, 'MethodNotAllowed', 'method not allowed'));
    if (verb === 'get') {
      const object = store.get(resource, namespace, name);
      return object ? send(res, 200, object) : send(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
    }
    await readBody(req);
    const deleted = store.delete(resource, namespace, name);
    if (!deleted) return send(res, 404, status(404, 'NotFound', `${resource} "${name}" not found`));
    return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: resource } });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: Error) => send(res, 500, status(500, 'InternalError', err.message)));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    store,
    calls: () => ({ ...counts }),
    resetCalls: () => { for (const key of Object.keys(counts)) delete counts[key]; },
    scenario: (selector, scenario, scenarioOptions) => { scenarios.unshift({ selector, scenario, left: scenarioOptions?.times ?? Infinity }); },
    createSecret(namespace, name, values) {
      const data = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]));
      if (!store.create('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data })) {
        throw new Error(`fake kube: secret ${namespace}/${name} already exists`);
      }
    },
    created: (resource, selector) => createdLabels.filter((c) => c.resource === resource && matchesSelector(selector ?? null, c.labels)).length,
    failNext: (failure) => { failures.push({ ...failure, left: failure.times ?? 1 }); },
    dropWatches: () => { for (const res of [...watches]) res.socket?.destroy(); },
    expireWatches: () => {
      store.compact();
      for (const res of [...watches]) res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') }) + '\n');
    },
    dropLogStreams: () => { for (const res of [...logs]) res.socket?.destroy(); },
    openStreams: () => ({ watches: watches.size, logs: logs.size }),
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        if (predicate()) return resolve();
        const timer = setTimeout(() => { changeWaiters.delete(check); reject(new Error('fake kube: condition not reached in time')); }, timeoutMs);
        const check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          changeWaiters.delete(check);
          resolve();
        };
        changeWaiters.add(check);
      });
    },
    async stop() {
      for (const timer of deadlines.values()) clearTimeout(timer);
      for (const pod of pods.values()) pod.kill();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
