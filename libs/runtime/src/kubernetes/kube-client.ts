import type { Job, KubeList, Pod, Secret, WatchEvent } from './kube-objects';

/** An open stream (watch or log follow). `close()` ends it; `done` settles when it has ended for any reason. */
export interface KubeStream {
  close(): void;
  /**
   * Stops reading the stream until {@link KubeStream.resume}: what the server sends waits in the
   * socket's buffers and then in the server's (TCP flow control), not in this process.
   */
  pause(): void;
  resume(): void;
  /** Resolves when the stream ends (server closed it, or `close()`); rejects when it failed (status, reset). */
  readonly done: Promise<void>;
}

/** Options of a pod log read. */
export interface PodLogOptions {
  container?: string;
  follow?: boolean;
  /** Prefix each line with its RFC 3339 (nano) timestamp and a space. */
  timestamps?: boolean;
  /** Only lines at or after this time; the API compares at whole seconds. */
  sinceTime?: Date;
}

/**
 * The Kubernetes API calls Skein's runtime makes, and nothing more: a narrow seam so the runtime is
 * tested against the fake API server over real HTTP, and so the calls per attempt can be counted.
 * Every method rejects with a {@link KubeApiError} on an error answer.
 */
export interface KubeClient {
  createJob(namespace: string, job: Job): Promise<Job>;
  getJob(namespace: string, name: string): Promise<Job>;
  listJobs(namespace: string, labelSelector: string): Promise<KubeList<Job>>;
  /** Deletes a Job and, with propagation `Background`, its pods. */
  deleteJob(namespace: string, name: string): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<KubeList<Pod>>;
  /** A watch from `resourceVersion`: one call of `onEvent` per line of the stream, in order. */
  watchPods(namespace: string, labelSelector: string, resourceVersion: string, onEvent: (event: WatchEvent<Pod>) => void): KubeStream;
  /** Reads a pod's log; with `follow`, until the container ends. `onChunk` gets raw bytes. */
  streamPodLog(namespace: string, pod: string, options: PodLogOptions, onChunk: (chunk: Buffer) => void): KubeStream;
  /**
   * Reads one Secret (only with `redactSecrets`: its values are hidden in the task log). Needs the
   * optional `secrets: get` grant of deploy/rbac/executor-secrets-rbac.yaml.
   */
  getSecret(namespace: string, name: string): Promise<Secret>;
  /** Closes kept-alive connections (idempotent). */
  close(): void;
}
