import type { Logger } from 'pino';
import { isKubeStatus } from './errors';
import type { KubeClient, KubeStream } from './kube-client';
import type { Pod, WatchEvent } from './kube-objects';

/** What a subscriber hears about its attempt's pod. */
export type PodListener = (pod: Pod, deleted: boolean) => void;

const ATTEMPT_LABEL = 'skein.dev/attempt';

/**
 * One label-selected pod watch per namespace, shared by every attempt: list once, then watch from
 * the list's resourceVersion; resume from the last version seen after a disconnect, and list again
 * after `410 Gone` (the version fell out of the API server's window). Subscribers are keyed by attempt
 * id and get the latest known pod at once when they subscribe, so an attempt adopted after a restart
 * sees its pod's current state without a call of its own.
 */
export class PodWatcher {
  private readonly listeners = new Map<string, Set<PodListener>>();
  private readonly latest = new Map<string, Pod>();
  private resourceVersion = '';
  private stream: KubeStream | undefined;
  private stopped = false;
  private started: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly selector: string,
    private readonly logger: Logger,
  ) {}

  /** Lists and starts watching (once); resolves after the first list. */
  start(): Promise<void> {
    this.started ??= this.relist();
    return this.started;
  }

  /** Calls `listener` with every change of the attempt's pod, starting with its current state when known. */
  subscribe(attemptId: string, listener: PodListener): () => void {
    let set = this.listeners.get(attemptId);
    if (!set) this.listeners.set(attemptId, (set = new Set()));
    set.add(listener);
    const known = this.latest.get(attemptId);
    if (known) queueMicrotask(() => set?.has(listener) && listener(known, false));
    return () => {
      set?.delete(listener);
      if (set?.size === 0) this.listeners.delete(attemptId);
    };
  }

  /** The last known pod of an attempt. */
  podOf(attemptId: string): Pod | undefined {
    return this.latest.get(attemptId);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.close();
  }

  private async relist(): Promise<void> {
    const list = await this.client.listPods(this.namespace, this.selector);
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    const present = new Set<string>();
    for (const pod of list.items) {
      const attempt = pod.metadata.labels?.[ATTEMPT_LABEL];
      if (attempt) present.add(attempt);
      this.deliver(pod, false);
    }
    // A pod deleted while no watch was open: its attempt hears of it from the last state it knew.
    for (const [attempt, pod] of this.latest) if (!present.has(attempt)) this.deliver(pod, true);
    this.watch();
  }

  private watch(): void {
    if (this.stopped) return;
    let expired = false;
    const stream = this.client.watchPods(this.namespace, this.selector, this.resourceVersion, (event: WatchEvent<Pod>) => {
      if (event.type === 'ERROR') {
        if (event.object.code === 410) expired = true;
        else this.logger.warn({ status: event.object }, 'pod watch error event');
        stream.close();
        return;
      }
      this.failures = 0;
      if (event.object.metadata.resourceVersion) this.resourceVersion = event.object.metadata.resourceVersion;
      if (event.type !== 'BOOKMARK') this.deliver(event.object, event.type === 'DELETED');
    });
    this.stream = stream;
    stream.done.then(
      () => this.resume(expired),
      (err: unknown) => {
        if (!isKubeStatus(err, 410)) this.logger.warn({ err, namespace: this.namespace }, 'pod watch cut; resuming');
        this.resume(expired || isKubeStatus(err, 410));
      },
    );
  }

  /** Resumes after a stream ended: from the last version, or with a fresh list after 410 Gone. */
  private resume(relist: boolean): void {
    if (this.stopped) return;
    const delayMs = Math.min(5000, this.failures === 0 ? 0 : 100 * 2 ** this.failures);
    this.failures += 1;
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      if (!relist) return this.watch();
      this.logger.info({ namespace: this.namespace }, 'pod watch expired (410 Gone); listing again');
      this.relist().catch((err: unknown) => {
        this.logger.warn({ err }, 'pod list failed; retrying');
        this.resume(true);
      });
    }, delayMs);
  }

  private deliver(pod: Pod, deleted: boolean): void {
    const attempt = pod.metadata.labels?.[ATTEMPT_LABEL];
    if (!attempt) return;
    if (deleted) this.latest.delete(attempt);
    else this.latest.set(attempt, pod);
    for (const listener of [...(this.listeners.get(attempt) ?? [])]) listener(pod, deleted);
  }
}
