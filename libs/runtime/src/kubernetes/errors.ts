/** The Kubernetes API answered with an error status (or could not be reached: `status` 0). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code = 'KUBE_API_ERROR';
  /** HTTP status; 0 when no answer arrived (connection refused, reset, timed out). */
  readonly status: number;
  /** The Status object's `reason` (`AlreadyExists`, `NotFound`, `Expired`, `Forbidden`, ...). */
  readonly reason: string | undefined;
  constructor(message: string, status: number, reason?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.reason = reason;
  }
}

/** The kubeconfig or in-cluster credentials could not be read. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
  readonly code = 'KUBE_CONFIG_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** `skein render` named a task the workflow does not have. */
export class UnknownTaskError extends Error {
  override readonly name = 'UnknownTaskError';
  readonly code = 'TASK_NOT_FOUND';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for a {@link KubeApiError} with the given HTTP status (also across module copies). */
export function isKubeStatus(error: unknown, status: number): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 'KUBE_API_ERROR' && (error as KubeApiError).status === status;
}

/** Whether a failed call may succeed if simply made again: no answer, 429, or a 5xx. */
export function isRetryableKubeError(error: unknown): boolean {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'KUBE_API_ERROR') return false;
  const status = (error as KubeApiError).status;
  return status === 0 || status === 429 || status >= 500;
}
