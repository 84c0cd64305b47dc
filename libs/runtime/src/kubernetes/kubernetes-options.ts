import type { Logger } from 'pino';
import type { CleanupPolicy } from '@skein/domain';
import type { KubeClient } from './kube-client';
import { DEFAULT_OUTPUT_PATH } from './job-manifest';

/** Options of {@link createKubernetesRuntime}. */
export interface KubernetesRuntimeOptions {
  /** How to reach the API: `createHttpKubeClient({ connection })`, or a test's client. */
  readonly client: KubeClient;
  readonly logger: Logger;
  /** Namespace of a task that names none. @default "default" */
  readonly namespace?: string;
  /** Image of a task that names none. @default undefined (such a task's Job is refused by the API) */
  readonly defaultImage?: string;
  /** `SKEIN_OUTPUT_PATH` in the container, also its terminationMessagePath. @default "/dev/termination-log" */
  readonly outputPath?: string;
  /** An attempt whose pod has not started after this long fails with the last Pending reason. @default 300000 */
  readonly pendingTimeoutMs?: number;
  /** What happens to a finished attempt's Job (a task's `kubernetes.cleanup` wins). @default "delete" */
  readonly cleanup?: CleanupPolicy;
  /** After the pod ends, how long to wait for the rest of its log before settling anyway. @default 10000 */
  readonly logDrainMs?: number;
  /** Tries of a Job create or delete that failed with 429, 5xx or no answer. @default 5 */
  readonly createAttempts?: number;
  /**
   * Delete a finished attempt's Job only when the executor calls `release()` (after the task log is
   * durably published), not as soon as the result is known; a Job never released is left to `sweep`.
   * @default false
   */
  readonly deleteAfterRelease?: boolean;
  /**
   * Before an attempt's Job is created (or adopted), read the Secrets its task container takes env
   * from (`valueFrom.secretKeyRef`, `envFrom[].secretRef`) and hand their values to the output's
   * consumer (`OutputFlow.redactValues`), so they are replaced by `***` in the task log. Needs
   * `secrets: get` in the task namespaces (deploy/rbac/executor-secrets-rbac.yaml). A Secret that
   * cannot be read fails the attempt before its Job exists.
   * @default false
   */
  readonly redactSecrets?: boolean;
}

/** {@link KubernetesRuntimeOptions} with every default applied. */
export interface CompiledKubernetesOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly namespace: string;
  readonly defaultImage: string | undefined;
  readonly outputPath: string;
  readonly pendingTimeoutMs: number;
  readonly cleanup: CleanupPolicy;
  readonly logDrainMs: number;
  readonly createAttempts: number;
  readonly deleteAfterRelease: boolean;
  readonly redactSecrets: boolean;
}

export function compileKubernetesOptions(options: KubernetesRuntimeOptions): CompiledKubernetesOptions {
  return {
    client: options.client,
    logger: options.logger,
    namespace: options.namespace ?? 'default',
    defaultImage: options.defaultImage,
    outputPath: options.outputPath ?? DEFAULT_OUTPUT_PATH,
    pendingTimeoutMs: options.pendingTimeoutMs ?? 300_000,
    cleanup: options.cleanup ?? 'delete',
    logDrainMs: options.logDrainMs ?? 10_000,
    createAttempts: options.createAttempts ?? 5,
    deleteAfterRelease: options.deleteAfterRelease ?? false,
    redactSecrets: options.redactSecrets ?? false,
  };
}
