import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FakeKubeStore, KubeObject } from './fake-kube-store';

/** What the fake cluster does to one Job's pod instead of simply running it. */
export interface PodScenario {
  /** The image never pulls: ErrImagePull, then ImagePullBackOff; the pod stays Pending. */
  readonly imagePullFailure?: boolean;
  /** No node fits: PodScheduled=False, reason Unschedulable; the pod stays Pending. */
  readonly unschedulable?: boolean;
  /** The container is reported OOMKilled (exit 137) when its process ends. */
  readonly oomKilled?: boolean;
  /** The pod is reported Evicted when its process ends. */
  readonly evicted?: boolean;
  /** The pod waits this long in Pending (ContainerCreating) before its process starts. */
  readonly startDelayMs?: number;
}

/** One line of a fake container log. */
export interface LogLine {
  readonly stamp: string;
  readonly text: string;
}

let counter = 0;

/** An RFC 3339 timestamp with nanoseconds, strictly increasing within this process (as the kubelet's are). */
function nanoStamp(): string {
  const now = new Date();
  counter = (counter + 1) % 1_000_000;
  const base = now.toISOString().slice(0, 19);
  return `${base}.${String(now.getUTCMilliseconds()).padStart(3, '0')}${String(counter).padStart(6, '0')}Z`;
}

/**
 * The kubelet of one fake pod: runs the container's command as a local process (the image is
 * ignored), captures its output as a timestamped log, and writes the pod's phases and container
 * statuses into the store, with the termination message read from the file at terminationMessagePath.
 */
export class FakePod {
  readonly log: LogLine[] = [];
  private readonly logListeners = new Set<() => void>();
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'skein-fake-pod-'));
  private timers: NodeJS.Timeout[] = [];
  terminated = false;
  private killedFor: 'DeadlineExceeded' | undefined;

  constructor(private readonly store: FakeKubeStore, private pod: KubeObject, private readonly scenario: PodScenario,
    /** The images' filesystem: an absolute command path is looked up under it first. */
    private readonly imageRoot?: string) {}

  get name(): string {
    return this.pod.metadata.name;
  }

  start(): void {
    const containerName = this.container()['name'] as string;
    if (this.scenario.unschedulable) {
      this.setStatus({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] });
      return;
    }
    const image = String(this.container()['image'] ?? '');
    if (this.scenario.imagePullFailure) {
      const waiting = (reason: string, message: string) => ({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [{ name: containerName, ready: false, restartCount: 0, image, state: { waiting: { reason, message } } }],
      });
      this.setStatus(waiting('ErrImagePull', `failed to pull and unpack image "${image}": not found`));
      this.timers.push(setTimeout(() => this.setStatus(waiting('ImagePullBackOff', `Back-off pulling image "${image}"`)), 50));
      return;
    }
    this.setStatus({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: containerName, ready: false, restartCount: 0, image, state: { waiting: { reason: 'ContainerCreating' } } }],
    });
    this.timers.push(setTimeout(() => this.run(containerName, image), this.scenario.startDelayMs ?? 10));
  }

  /** Kills the process (the pod is being deleted or its deadline passed). */
  kill(reason?: 'DeadlineExceeded'): void {
    this.killedFor ??= reason;
    for (const timer of this.timers) clearTimeout(timer);
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      // The whole process group, as the kubelet kills a container: a shell's children would otherwise
      // keep its output pipes (and the test process) open.
      try {
        process.kill(-(this.process.pid as number), 'SIGKILL');
      } catch {
        this.process.kill('SIGKILL');
      }
    }
    else if (!this.terminated) {
      // Never ran (pending scenarios): nothing will close the log or remove the directory otherwise.
      rmSync(this.dir, { recursive: true, force: true });
      this.finishLog();
    }
  }

  onLog(listener: () => void): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  private container(): Record<string, unknown> {
    const spec = this.pod['spec'] as { containers: Array<Record<string, unknown>> };
    return spec.containers[0] ?? {};
  }

  private run(containerName: string, image: string): void {
    const container = this.container();
    const argv = [...((container['command'] as string[] | undefined) ?? []), ...((container['args'] as string[] | undefined) ?? [])];
    const messagePath = String(container['terminationMessagePath'] ?? '/dev/termination-log');
    const messageFile = path.join(this.dir, 'termination-log');
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
    // As the kubelet: `envFrom` first, then `env` (which wins); Secret values decoded from `data`.
    // A Secret (or key) that does not exist is left out (the real kubelet holds a non-optional one's
    // pod in CreateContainerConfigError; no test of Skein needs that).
    const secretValue = (name: string, key: string) => {
      const data = this.store.get('secrets', this.pod.metadata.namespace, name)?.['data'] as Record<string, string> | undefined;
      const encoded = data?.[key];
      return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
    };
    for (const source of (container['envFrom'] as Array<{ prefix?: string; secretRef?: { name: string } }> | undefined) ?? []) {
      if (!source.secretRef) continue;
      const data = this.store.get('secrets', this.pod.metadata.namespace, source.secretRef.name)?.['data'] as Record<string, string> | undefined;
      for (const key of Object.keys(data ?? {})) env[`${source.prefix ?? ''}${key}`] = secretValue(source.secretRef.name, key) ?? '';
    }
    type EnvItem = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
    for (const item of (container['env'] as EnvItem[] | undefined) ?? []) {
      if (item.value !== undefined) env[item.name] = item.value === messagePath ? messageFile : item.value;
      const ref = item.valueFrom?.secretKeyRef;
      const value = ref && secretValue(ref.name, ref.key);
      if (value !== undefined) env[item.name] = value;
    }
    const startedAt = new Date().toISOString();
    let executable = argv[0] ?? 'true';
    if (this.imageRoot && path.isAbsolute(executable) && existsSync(path.join(this.imageRoot, executable))) executable = path.join(this.imageRoot, executable);
    const child = spawn(executable, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.process = child;
    this.setStatus({
      phase: 'Running',
      startTime: startedAt,
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: containerName, ready: true, restartCount: 0, image, state: { running: { startedAt } } }],
    });
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        this.log.push({ stamp: nanoStamp(), text: pending.slice(0, newline) });
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
      this.emitLog();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', () => undefined);
    child.on('close', (code, signal) => {
      if (pending !== '') this.log.push({ stamp: nanoStamp(), text: pending });
      let message: string | undefined;
      try {
        message = readFileSync(messageFile, 'utf8').slice(0, 4096);
      } catch {
        message = undefined;
      }
      rmSync(this.dir, { recursive: true, force: true });
      const exitCode = this.scenario.oomKilled ? 137 : code ?? (signal ? 137 : 1);
      const reason = this.scenario.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
      const terminated = { exitCode, reason, startedAt, finishedAt: new Date().toISOString(), ...(message && { message }) };
      const failed = exitCode !== 0 || this.scenario.evicted || this.killedFor;
      this.setStatus({
        phase: failed ? 'Failed' : 'Succeeded',
        startTime: startedAt,
        ...(this.scenario.evicted && { reason: 'Evicted', message: 'The node was low on resource: memory.' }),
        ...(this.killedFor && { reason: this.killedFor, message: 'Pod was active on the node longer than the specified deadline' }),
        conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }],
        containerStatuses: [{ name: containerName, ready: false, restartCount: 0, image, state: { terminated } }],
      });
      this.finishLog();
    });
  }

  private finishLog(): void {
    this.terminated = true;
    this.emitLog();
  }

  private emitLog(): void {
    for (const listener of [...this.logListeners]) listener();
  }

  private setStatus(status: Record<string, unknown>): void {
    const current = this.store.get('pods', this.pod.metadata.namespace, this.pod.metadata.name);
    if (!current) return;
    this.pod = this.store.update('pods', { ...current, status });
  }
}
