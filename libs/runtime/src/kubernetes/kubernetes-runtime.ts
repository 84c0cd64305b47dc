import type { OutputFlow, Runtime, RunningTask, TaskLaunch, TaskOutput } from '../runtime';
import { buildJobManifest, MANAGED_BY_SELECTOR, type KubernetesTaskLaunch } from './job-manifest';
import type { Job } from './kube-objects';
import { compileKubernetesOptions, type KubernetesRuntimeOptions } from './kubernetes-options';
import { KubernetesTask } from './kubernetes-task';
import { PodWatcher } from './pod-watcher';

/** The Kubernetes runtime: every attempt a batch/v1 Job. */
export interface KubernetesRuntime extends Runtime {
  readonly name: 'kubernetes';
  /** Attempts this runtime is following now. */
  readonly activeCount: number;
  /** The Job an attempt gets (what `skein render` prints). */
  render(task: KubernetesTaskLaunch): Job;
  /**
   * Deletes Skein's Jobs whose attempt `isActive` says is not running (terminal or unknown) and that
   * this runtime is not following. `isActive` also gets the Job (its status tells whether and when it
   * finished). Returns the names deleted. Run it periodically.
   */
  sweep(namespace: string, isActive: (attemptId: string, job: Job) => Promise<boolean>): Promise<string[]>;
  /** The namespaces this runtime has launched attempts in (each has a pod watch), for the sweep. */
  readonly namespaces: readonly string[];
  /**
   * Stops the pod watches and lets go of every attempt (their results settle as CANCELLED). Running
   * Jobs are left alone: the redelivered dispatch makes another executor adopt them. Idempotent.
   */
  stop(): void;
}

/**
 * Creates the Kubernetes runtime. One pod watch per namespace is shared by all attempts and opened on
 * the first launch there; per attempt the API sees a Job create, one log stream and a Job delete.
 * The log stream is paused while the `flow` given to `launch` is not writable (a slow log store makes
 * the read wait instead of lines being dropped).
 */
export function createKubernetesRuntime(options: KubernetesRuntimeOptions): KubernetesRuntime {
  const compiled = compileKubernetesOptions(options);
  const watchers = new Map<string, { watcher: PodWatcher; ready: Promise<PodWatcher> }>();
  const active = new Map<string, KubernetesTask>();
  let stopped = false;
  const stopping = new AbortController();

  function watcherFor(namespace: string): Promise<PodWatcher> {
    let entry = watchers.get(namespace);
    if (!entry) {
      const watcher = new PodWatcher(compiled.client, namespace, MANAGED_BY_SELECTOR, compiled.logger.child({ namespace }));
      const ready = watcher.start().then(() => watcher);
      entry = { watcher, ready };
      watchers.set(namespace, entry);
      // A failed first list is retried by the next launch in this namespace.
      ready.catch(() => watchers.get(namespace) === entry && watchers.delete(namespace));
    }
    return entry.ready;
  }

  return {
    name: 'kubernetes',
    adoptsOnRedelivery: true,
    get activeCount() {
      return active.size;
    },
    get namespaces() {
      return [...watchers.keys()];
    },
    launch(task: TaskLaunch, onOutput: (line: TaskOutput) => void, flow?: OutputFlow): RunningTask {
      const running: KubernetesTask = new KubernetesTask(task, onOutput, compiled.client, watcherFor, compiled, () => {
        if (active.get(task.attemptId) === running) active.delete(task.attemptId);
      }, stopping.signal, flow);
      if (stopped) running.cancel('the kubernetes runtime is stopped');
      active.set(task.attemptId, running);
      return running;
    },
    render: (task) => buildJobManifest(task, compiled),
    async sweep(namespace, isActive) {
      const jobs = await compiled.client.listJobs(namespace, MANAGED_BY_SELECTOR);
      const deleted: string[] = [];
      for (const job of jobs.items) {
        const attemptId = job.metadata.labels?.['skein.dev/attempt'];
        const name = job.metadata.name;
        if (!name || (attemptId && active.has(attemptId))) continue;
        if (attemptId && (await isActive(attemptId, job))) continue;
        await compiled.client.deleteJob(namespace, name);
        deleted.push(name);
      }
      return deleted;
    },
    stop() {
      stopped = true;
      stopping.abort();
      for (const running of [...active.values()]) running.detach();
      for (const { watcher } of watchers.values()) watcher.stop();
      watchers.clear();
      compiled.client.close();
    },
  };
}
