/**
 * The subset of Kubernetes API objects (batch/v1 Job, core/v1 Pod, meta/v1 Status and watch events)
 * that Skein reads or writes, typed after the API's JSON. Own types rather than
 * `@kubernetes/client-node`'s: that package is ESM-only and cannot be loaded by jest's module runtime.
 */

/** meta/v1 ObjectMeta (the fields Skein uses). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}

/** A JSON object whose shape Skein does not model (passed through to the API). */
export type KubeJson = Record<string, unknown>;

/** core/v1 Container. */
export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  env?: KubeJson[];
  envFrom?: KubeJson[];
  resources?: KubeJson;
  volumeMounts?: KubeJson[];
  securityContext?: KubeJson;
  terminationMessagePath?: string;
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
  [key: string]: unknown;
}

/** core/v1 PodSpec. */
export interface PodSpec {
  containers: Container[];
  restartPolicy?: 'Never' | 'OnFailure' | 'Always';
  [key: string]: unknown;
}

/** core/v1 PodTemplateSpec. */
export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

/** batch/v1 JobCondition. */
export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** batch/v1 Job. */
export interface Job {
  apiVersion: 'batch/v1';
  kind: 'Job';
  metadata: ObjectMeta;
  spec: {
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    ttlSecondsAfterFinished?: number;
    template: PodTemplateSpec;
    [key: string]: unknown;
  };
  status?: { active?: number; succeeded?: number; failed?: number; conditions?: JobCondition[]; startTime?: string; completionTime?: string };
}

/** core/v1 ContainerState. */
export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode: number; signal?: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
}

/** core/v1 ContainerStatus. */
export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  image?: string;
  state?: ContainerState;
}

/** core/v1 PodCondition. */
export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** core/v1 Pod. */
export interface Pod {
  apiVersion?: 'v1';
  kind?: 'Pod';
  metadata: ObjectMeta;
  spec?: PodSpec;
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    reason?: string;
    message?: string;
    startTime?: string;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
  };
}

/** core/v1 Secret: `data` holds each key's value base64-encoded. */
export interface Secret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type?: string;
  data?: Record<string, string>;
}

/** A list answer (`JobList`, `PodList`). */
export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** meta/v1 Status: the body of every error answer and of a watch's ERROR event. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: KubeJson;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code: number;
  details?: KubeJson;
}

/** One line of a watch stream: `{"type":"ADDED","object":{...}}`. */
export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: { metadata: { resourceVersion?: string } } }
  | { type: 'ERROR'; object: KubeStatus };
