export type {
  FailureReason,
  LogResumePoint,
  OutputFlow,
  RunningTask,
  Runtime,
  TaskEnvVar,
  TaskLaunch,
  TaskOutput,
  TaskOutputStream,
  TaskResult,
} from './runtime';
export { createLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from './local-runtime';
export { createNoopRuntime, NOOP_RUNTIME_NAME } from './noop-runtime';
export { TaskNotStartedError, TaskOutputInvalidError, isTaskNotStarted } from './errors';
export { LineSplitter, MAX_LINE_BYTES } from './line-splitter';
export { readOutputs, MAX_OUTPUTS_BYTES } from './read-outputs';
export { buildTaskEnv, pickInheritedEnv, INHERITED_ENV_NAMES } from './task-env';
export { formatDuration } from './format-duration';
export { createKubernetesRuntime, type KubernetesRuntime } from './kubernetes/kubernetes-runtime';
export type { KubernetesRuntimeOptions } from './kubernetes/kubernetes-options';
export {
  buildJobManifest,
  attemptLabels,
  DEFAULT_OUTPUT_PATH,
  MANAGED_BY_SELECTOR,
  TASK_CONTAINER,
  TRACEPARENT_ANNOTATION,
  CLEANUP_ANNOTATION,
  type JobManifestSettings,
  type KubernetesTaskLaunch,
} from './kubernetes/job-manifest';
export { jobNameFor, MAX_JOB_NAME } from './kubernetes/job-name';
export { renderTaskJob, manifestToYaml, RENDER_PLACEHOLDER_ID, type RenderTaskOptions } from './kubernetes/render-task';
export { mergePodTemplate } from './kubernetes/merge-pod-template';
export { createHttpKubeClient, type HttpKubeClientOptions } from './kubernetes/http-kube-client';
export { inClusterConnection, kubeconfigConnection, IN_CLUSTER_DIR, type KubeConnection, type KubeconfigConnection } from './kubernetes/kube-config';
export type { KubeClient, KubeStream, PodLogOptions } from './kubernetes/kube-client';
export type { Job, Pod, KubeList, KubeStatus, WatchEvent } from './kubernetes/kube-objects';
export { KubeApiError, KubeConfigError, UnknownTaskError, isKubeStatus, isRetryableKubeError } from './kubernetes/errors';
