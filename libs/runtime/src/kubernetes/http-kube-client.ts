import http from 'node:http';
import https from 'node:https';
import { KubeApiError } from './errors';
import type { KubeClient, KubeStream, PodLogOptions } from './kube-client';
import type { Job, KubeList, KubeStatus, Pod, Secret, WatchEvent } from './kube-objects';
import type { KubeConnection } from './kube-config';
import { RateLimiter } from './rate-limiter';

/** Options of {@link createHttpKubeClient}. */
export interface HttpKubeClientOptions {
  readonly connection: KubeConnection;
  /** Requests per second, averaged (client-go's default is 5 with bursts of 10). @default 20 */
  readonly qps?: number;
  /** Requests allowed at once above the average rate. @default 40 */
  readonly burst?: number;
  /** Deadline of a non-streaming request. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** A watch asks the server to end it after this long (it is then resumed). @default 300 */
  readonly watchTimeoutSeconds?: number;
}

/**
 * A {@link KubeClient} over plain `node:http`/`node:https`: JSON requests, newline-delimited watch
 * streams, chunked log streams. The bearer token is re-read for every request when it comes from a
 * file (in-cluster tokens are rotated).
 */
export function createHttpKubeClient(options: HttpKubeClientOptions): KubeClient {
  const { connection } = options;
  const base = new URL(connection.server);
  const agentOptions = { keepAlive: true, ca: connection.ca, cert: connection.cert, key: connection.key, rejectUnauthorized: !connection.insecureSkipTlsVerify };
  const agent = base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent({ keepAlive: true });
  const limiter = new RateLimiter(options.qps ?? 20, options.burst ?? 40);
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;

  function open(method: string, path: string, body: unknown, timeoutMs: number): Promise<http.IncomingMessage> & { abort(): void } {
    let request: http.ClientRequest | undefined;
    let aborted = false;
    const promise = limiter.take().then(() => new Promise<http.IncomingMessage>((resolve, reject) => {
      if (aborted) return reject(new KubeApiError(`${method} ${path} aborted`, 0));
      const url = new URL(path, base);
      const headers: Record<string, string> = { accept: 'application/json' };
      const token = connection.token?.();
      if (token) headers['authorization'] = `Bearer ${token}`;
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      if (payload) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(payload.length);
      }
      const send = url.protocol === 'https:' ? https.request : http.request;
      request = send(url, { method, headers, agent, timeout: timeoutMs }, resolve);
      request.on('timeout', () => request?.destroy(new KubeApiError(`${method} ${url.pathname}: no answer within ${timeoutMs} ms`, 0)));
      request.on('error', (err) => reject(err instanceof KubeApiError ? err : new KubeApiError(`${method} ${url.pathname}: ${err.message}`, 0, undefined, { cause: err })));
      request.end(payload);
    }));
    return Object.assign(promise, { abort: () => { aborted = true; request?.destroy(); } });
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await open(method, path, body, requestTimeoutMs);
    const text = await readAll(response);
    if ((response.statusCode ?? 0) >= 300) throw statusError(method, path, response.statusCode ?? 0, text);
    return JSON.parse(text) as T;
  }

  function stream(path: string, onData: (chunk: Buffer) => void): KubeStream {
    const pending = open('GET', path, undefined, 0);
    let closed = false;
    let paused = false;
    let current: http.IncomingMessage | undefined;
    const done = pending.then((response) => new Promise<void>((resolve, reject) => {
      current = response;
      const status = response.statusCode ?? 0;
      if (status >= 300) {
        readAll(response).then((text) => reject(statusError('GET', path, status, text)), reject);
        return;
      }
      response.on('data', (chunk: Buffer) => { if (!closed) onData(chunk); });
      if (paused) response.pause();
      response.on('end', () => resolve());
      response.on('error', (err) => (closed ? resolve() : reject(new KubeApiError(`GET ${path}: ${err.message}`, 0, undefined, { cause: err }))));
      response.on('aborted', () => (closed ? resolve() : reject(new KubeApiError(`GET ${path}: the stream was cut`, 0))));
      // `close` without `end` is a connection the server dropped mid-stream.
      response.on('close', () => (closed || response.complete ? resolve() : reject(new KubeApiError(`GET ${path}: the stream was cut`, 0))));
    }), (err: unknown) => {
      if (closed) return;
      throw err;
    });
    return {
      close() {
        closed = true;
        pending.abort();
      },
      pause() {
        paused = true;
        current?.pause();
      },
      resume() {
        paused = false;
        current?.resume();
      },
      done,
    };
  }

  const jobs = (ns: string) => `/apis/batch/v1/namespaces/${encodeURIComponent(ns)}/jobs`;
  const pods = (ns: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;

  return {
    close() {
      agent.destroy();
    },
    createJob: (ns, job) => call<Job>('POST', jobs(ns), job),
    getJob: (ns, name) => call<Job>('GET', `${jobs(ns)}/${encodeURIComponent(name)}`),
    listJobs: (ns, selector) => call<KubeList<Job>>('GET', `${jobs(ns)}?${query({ labelSelector: selector })}`),
    deleteJob: async (ns, name) => {
      await call<unknown>('DELETE', `${jobs(ns)}/${encodeURIComponent(name)}`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    },
    getSecret: (ns, name) => call<Secret>('GET', `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(name)}`),
    listPods: (ns, selector) => call<KubeList<Pod>>('GET', `${pods(ns)}?${query({ labelSelector: selector })}`),
    watchPods(ns, selector, resourceVersion, onEvent) {
      let rest = '';
      const path = `${pods(ns)}?${query({ watch: 'true', labelSelector: selector, resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(watchTimeoutSeconds) })}`;
      return stream(path, (chunk) => {
        rest += chunk.toString('utf8');
        let newline = rest.indexOf('\n');
        while (newline !== -1) {
          const line = rest.slice(0, newline).trim();
          rest = rest.slice(newline + 1);
          if (line !== '') onEvent(JSON.parse(line) as WatchEvent<Pod>);
          newline = rest.indexOf('\n');
        }
      });
    },
    streamPodLog(ns, pod, logOptions: PodLogOptions, onChunk) {
      const params: Record<string, string> = {};
      if (logOptions.container) params['container'] = logOptions.container;
      if (logOptions.follow) params['follow'] = 'true';
      if (logOptions.timestamps) params['timestamps'] = 'true';
      // sinceTime is a meta/v1 Time: RFC 3339 at whole seconds.
      if (logOptions.sinceTime) params['sinceTime'] = logOptions.sinceTime.toISOString().replace(/\.\d+Z$/, 'Z');
      return stream(`${pods(ns)}/${encodeURIComponent(pod)}/log?${query(params)}`, onChunk);
    },
  };
}

function query(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

function readAll(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function statusError(method: string, path: string, status: number, text: string): KubeApiError {
  let body: Partial<KubeStatus> | undefined;
  try {
    body = JSON.parse(text) as Partial<KubeStatus>;
  } catch {
    body = undefined;
  }
  const message = body?.message ?? (text.trim() || http.STATUS_CODES[status] || 'error');
  return new KubeApiError(`${method} ${path.split('?')[0]}: ${status} ${message}`, status, body?.reason);
}
