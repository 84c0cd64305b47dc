import type { KubernetesSpec } from '@skein/domain';
import type { TaskLaunch } from '../runtime';
import { buildTaskEnv } from '../task-env';
import { jobNameFor } from './job-name';
import type { Container, Job, KubeJson, PodSpec } from './kube-objects';
import { mergePodTemplate } from './merge-pod-template';

/** The name of the task's container in every pod Skein creates. */
export const TASK_CONTAINER = 'task';
/** Where a task writes its outputs on Kubernetes: the container's termination message file. */
export const DEFAULT_OUTPUT_PATH = '/dev/termination-log';
/** The label every Skein Job and pod carries; the pod watch selects on it. */
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=skein';
/** Annotation recording a task's cleanup policy other than `delete` (the sweep honours it). */
export const CLEANUP_ANNOTATION = 'skein.dev/cleanup';
/** Annotation carrying the attempt's W3C trace context. */
export const TRACEPARENT_ANNOTATION = 'skein.dev/traceparent';

/** A task as the Kubernetes runtime receives it: the launch plus its `kubernetes:` settings. */
export interface KubernetesTaskLaunch extends TaskLaunch {
  readonly kubernetes?: KubernetesSpec;
}

/** Settings of {@link buildJobManifest} that come from the executor, not the task. */
export interface JobManifestSettings {
  /** Namespace of a task that names none. */
  readonly namespace: string;
  /** `SKEIN_OUTPUT_PATH` and the container's terminationMessagePath. @default {@link DEFAULT_OUTPUT_PATH} */
  readonly outputPath?: string;
  /** Image of a task that names none. */
  readonly defaultImage?: string;
}

/** The labels by which Skein finds an attempt's Job and pod. */
export function attemptLabels(task: TaskLaunch): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'skein-task',
    'app.kubernetes.io/component': 'task',
    'app.kubernetes.io/managed-by': 'skein',
    'app.kubernetes.io/part-of': 'skein',
    'skein.dev/workflow': task.workflow,
    'skein.dev/run': task.runId,
    'skein.dev/task': task.task,
    'skein.dev/attempt': task.attemptId,
  };
}

/** The namespace of a task's Job. */
export function jobNamespace(task: KubernetesTaskLaunch, settings: Pick<JobManifestSettings, 'namespace'>): string {
  return task.kubernetes?.namespace ?? settings.namespace;
}

/**
 * The batch/v1 Job of one attempt. Pure: the same task gives the same manifest, which is what
 * `skein render` prints and what an adopting executor expects to find.
 *
 * Skein owns retries, so the Job never retries (`backoffLimit: 0`, `restartPolicy: Never`); the task
 * timeout becomes `activeDeadlineSeconds` so the cluster enforces it even with no executor alive.
 */
export function buildJobManifest(task: KubernetesTaskLaunch, settings: JobManifestSettings): Job {
  const k8s = task.kubernetes ?? {};
  const outputPath = settings.outputPath ?? DEFAULT_OUTPUT_PATH;
  const labels = { ...k8s.labels, ...attemptLabels(task) };
  const annotations: Record<string, string> = { ...k8s.annotations };
  if (task.traceparent) annotations[TRACEPARENT_ANNOTATION] = task.traceparent;
  // The executor's periodic sweep reads it: a Job kept on purpose must not be swept.
  if (k8s.cleanup && k8s.cleanup !== 'delete') annotations[CLEANUP_ANNOTATION] = k8s.cleanup;
  const envMap = buildTaskEnv({}, task, outputPath);
  const env: KubeJson[] = Object.entries(envMap).map(([name, value]) => ({ name, value }));
  for (const ref of k8s.envValueFrom ?? []) env.push({ name: ref.name, valueFrom: ref.valueFrom });

  const container: Container = {
    name: TASK_CONTAINER,
    image: task.image ?? settings.defaultImage ?? '',
    ...(k8s.imagePullPolicy && { imagePullPolicy: k8s.imagePullPolicy }),
    ...(task.command.length > 0 && { command: [...task.command] }),
    ...(task.args.length > 0 && { args: [...task.args] }),
    env,
    ...(k8s.envFrom && { envFrom: k8s.envFrom.map((source) => ({ ...source })) }),
    ...(k8s.resources && { resources: { ...k8s.resources } }),
    ...(k8s.volumeMounts && { volumeMounts: k8s.volumeMounts.map((mount) => ({ ...mount })) }),
    ...(k8s.securityContext && { securityContext: { ...k8s.securityContext } }),
    terminationMessagePath: outputPath,
    // `File`, not FallbackToLogsOnError: outputs are what the task wrote, never a log tail.
    terminationMessagePolicy: 'File',
  };
  const podSpec: PodSpec = {
    restartPolicy: 'Never',
    containers: [container],
    ...(k8s.volumes && { volumes: k8s.volumes.map((volume) => ({ ...volume })) }),
    ...(k8s.nodeSelector && { nodeSelector: { ...k8s.nodeSelector } }),
    ...(k8s.tolerations && { tolerations: k8s.tolerations.map((t) => ({ ...t })) }),
    ...(k8s.affinity && { affinity: { ...k8s.affinity } }),
    ...(k8s.serviceAccountName && { serviceAccountName: k8s.serviceAccountName }),
    ...(k8s.imagePullSecrets && { imagePullSecrets: k8s.imagePullSecrets.map((name) => ({ name })) }),
    ...(k8s.podSecurityContext && { securityContext: { ...k8s.podSecurityContext } }),
  };
  let template: Job['spec']['template'] = { metadata: { labels: { ...labels }, annotations: { ...annotations } }, spec: podSpec };
  if (k8s.podTemplate) {
    template = mergePodTemplate(template, k8s.podTemplate);
    // The override may add to the labels but never drop the ones the watch selects on.
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...attemptLabels(task) } };
    template.spec = { ...template.spec, restartPolicy: 'Never' };
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(task.attemptId, task.task),
      namespace: jobNamespace(task, settings),
      labels,
      annotations,
    },
    spec: {
      backoffLimit: 0,
      ...(task.timeoutMs > 0 && { activeDeadlineSeconds: Math.max(1, Math.ceil(task.timeoutMs / 1000)) }),
      template,
    },
  };
}
