import type { FailureReason } from '../runtime';
import type { Pod } from './kube-objects';
import { TASK_CONTAINER } from './job-manifest';

/** Why a pod is not running yet, as Kubernetes said it: `ImagePullBackOff: Back-off pulling image "x"`. */
export interface PendingReason {
  readonly reason: string;
  readonly message: string;
}

/**
 * Waiting reasons that mean the container will not start without someone changing something. Seen
 * in the log at once; the attempt fails when they last past the pending timeout.
 */
const STUCK_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'ErrImageNeverPull', 'RunContainerError']);

/** Why a pod is still pending (container waiting reasons and an Unschedulable condition), for the task log. */
export function pendingReasons(pod: Pod): PendingReason[] {
  const reasons: PendingReason[] = [];
  for (const condition of pod.status?.conditions ?? []) {
    if (condition.type === 'PodScheduled' && condition.status === 'False' && condition.reason) {
      reasons.push({ reason: condition.reason, message: condition.message ?? '' });
    }
  }
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      reasons.push({ reason: waiting.reason, message: waiting.message ?? '' });
    }
  }
  return reasons;
}

/** Whether a pending reason will not clear by itself (image pull, bad config, unschedulable). */
export function isStuckReason(reason: string): boolean {
  return STUCK_WAITING.has(reason) || reason === 'Unschedulable';
}

/** The container has started (running or already ended). */
export function containerStarted(pod: Pod): Date | undefined {
  const state = taskContainerState(pod);
  const at = state?.running?.startedAt ?? state?.terminated?.startedAt;
  return at ? new Date(at) : undefined;
}

function taskContainerState(pod: Pod) {
  const statuses = pod.status?.containerStatuses ?? [];
  return (statuses.find((s) => s.name === TASK_CONTAINER) ?? statuses[0])?.state;
}

/** How a pod's attempt ended, read from its final status. */
export interface PodOutcome {
  readonly ok: boolean;
  readonly exitCode?: number;
  readonly reason?: FailureReason;
  readonly message?: string;
  /** The termination message: the outputs JSON the task wrote, when it wrote any. */
  readonly terminationMessage?: string;
  readonly startTime?: Date;
  readonly endTime?: Date;
}

/**
 * The outcome of a pod in phase Succeeded or Failed; `undefined` while it runs. Order matters: an
 * eviction or a deadline says more than the exit code of the container it killed.
 */
export function podOutcome(pod: Pod): PodOutcome | undefined {
  const phase = pod.status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  const terminated = taskContainerState(pod)?.terminated;
  const times = {
    ...(terminated?.startedAt && { startTime: new Date(terminated.startedAt) }),
    ...(terminated?.finishedAt && { endTime: new Date(terminated.finishedAt) }),
    ...(terminated?.message && { terminationMessage: terminated.message }),
  };
  const exit = terminated ? { exitCode: terminated.exitCode } : {};
  if (phase === 'Succeeded') return { ok: true, exitCode: terminated?.exitCode ?? 0, ...times };
  const podReason = pod.status?.reason;
  const podMessage = pod.status?.message ?? '';
  if (podReason === 'Evicted') return { ok: false, ...exit, reason: 'EVICTED', message: `the pod was evicted: ${podMessage}`.trim(), ...times };
  if (podReason === 'DeadlineExceeded') {
    return { ok: false, ...exit, reason: 'TIMEOUT', message: `killed: the Job's activeDeadlineSeconds passed ${podMessage ? `(${podMessage})` : ''}`.trim(), ...times };
  }
  if (terminated?.reason === 'OOMKilled') {
    return { ok: false, ...exit, reason: 'OOM_KILLED', message: 'the container was killed for using more memory than its limit (OOMKilled): raise resources.limits.memory', ...times };
  }
  if (terminated) {
    return { ok: false, ...exit, reason: 'EXIT_CODE', message: `exited with code ${terminated.exitCode}${terminated.reason && terminated.reason !== 'Error' ? ` (${terminated.reason})` : ''}`, ...times };
  }
  return { ok: false, reason: 'SPAWN_FAILED', message: `the pod failed before its container ran: ${podReason ?? ''} ${podMessage}`.trim(), ...times };
}
