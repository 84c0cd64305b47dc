/**
 * The Kubernetes part of a task: what a platform team sets on the pod of a task's Job beyond image,
 * command, args and env (those stay on {@link TaskSpec}). Field names and shapes are the Kubernetes
 * API's own (core/v1 PodSpec and Container), so a user can copy them from any manifest; the structured
 * ones (affinity, securityContext, volumes, podTemplate) are kept as the JSON the user wrote, checked
 * for shape at apply time, and passed through to the Job unchanged.
 */

/** A JSON object as written in a workflow file. */
export type JsonObject = { readonly [key: string]: unknown };

/** An env var whose value comes from a Secret or ConfigMap key (core/v1 EnvVarSource, the two kinds Skein accepts). */
export interface KubernetesEnvFrom {
  readonly name: string;
  readonly valueFrom:
    | { readonly secretKeyRef: { readonly name: string; readonly key: string; readonly optional?: boolean } }
    | { readonly configMapKeyRef: { readonly name: string; readonly key: string; readonly optional?: boolean } };
}

/** core/v1 EnvFromSource: every key of a Secret or ConfigMap as env vars. */
export interface KubernetesEnvSource {
  readonly prefix?: string;
  readonly secretRef?: { readonly name: string; readonly optional?: boolean };
  readonly configMapRef?: { readonly name: string; readonly optional?: boolean };
}

/** core/v1 ResourceRequirements; quantities as strings ("500m", "1Gi"). */
export interface KubernetesResources {
  readonly requests?: Readonly<Record<string, string>>;
  readonly limits?: Readonly<Record<string, string>>;
}

/** core/v1 VolumeMount (the fields Skein passes through). */
export interface KubernetesVolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
  readonly subPath?: string;
}

/** core/v1 Toleration. */
export interface KubernetesToleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly tolerationSeconds?: number;
}

/** When a finished attempt's Job is deleted. `delete`: always (the default); `deleteSucceeded`: keep failed ones for debugging; `keep`: never. */
export type CleanupPolicy = 'delete' | 'deleteSucceeded' | 'keep';

/** The cleanup policies, in documentation order. */
export const CLEANUP_POLICIES: readonly CleanupPolicy[] = ['delete', 'deleteSucceeded', 'keep'];

/** A task's Kubernetes settings (`kubernetes:` of a task, its template or the workflow defaults). */
export interface KubernetesSpec {
  /** The Job's namespace. @default the executor's namespace */
  readonly namespace?: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Env vars from Secret or ConfigMap keys, after the task's plain `env`. */
  readonly envValueFrom?: readonly KubernetesEnvFrom[];
  readonly envFrom?: readonly KubernetesEnvSource[];
  readonly resources?: KubernetesResources;
  /** core/v1 Volume objects, passed through. */
  readonly volumes?: readonly JsonObject[];
  readonly volumeMounts?: readonly KubernetesVolumeMount[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly KubernetesToleration[];
  /** core/v1 Affinity, passed through. */
  readonly affinity?: JsonObject;
  readonly serviceAccountName?: string;
  /** Names of Secrets of type docker-registry. */
  readonly imagePullSecrets?: readonly string[];
  /** core/v1 PodSecurityContext, passed through. */
  readonly podSecurityContext?: JsonObject;
  /** core/v1 SecurityContext of the task's container, passed through. */
  readonly securityContext?: JsonObject;
  /** Extra labels and annotations of the Job and its pod (Skein's own `skein.dev/*` ones win). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * A partial core/v1 PodTemplateSpec merged over the generated one last (objects deep-merged, lists of
   * named items merged by name, other lists replaced): the escape hatch for anything not modelled here.
   */
  readonly podTemplate?: JsonObject;
  /** @default "delete" */
  readonly cleanup?: CleanupPolicy;
}
