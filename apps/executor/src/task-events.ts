import { TaskEvent, type TaskDispatch } from '@skein/proto';
import type { KubernetesSpec } from '@skein/domain';
import { formatDuration, type KubernetesTaskLaunch, type TaskResult } from '@skein/runtime';
import type { Redactor } from './redactor';

/** The `oneof kind` of a {@link TaskEvent}. */
export type TaskEventKind = NonNullable<TaskEvent['kind']>;

const EPOCH = new Date(0);

/**
 * The runtime's view of a dispatch. The env entries are passed through, not copied. Throws on a
 * malformed `kubernetesJson` (launchSafely turns that into an attempt that failed to start): running
 * the task without its Kubernetes settings (resources, secrets) would be worse.
 */
export function toTaskLaunch(dispatch: TaskDispatch, withKubernetes = true): KubernetesTaskLaunch {
  return {
    ...(withKubernetes && dispatch.kubernetesJson !== '' && { kubernetes: parseKubernetesJson(dispatch.kubernetesJson) }),
    attemptId: dispatch.attemptId,
    runId: dispatch.runId,
    workflow: dispatch.workflow,
    task: dispatch.task,
    attempt: dispatch.attempt,
    image: dispatch.image || undefined,
    command: dispatch.command,
    args: dispatch.args,
    env: dispatch.env,
    timeoutMs: dispatch.timeoutMs,
    // A dispatch always carries one; epoch keeps a malformed one runnable rather than crashing.
    logicalDate: dispatch.logicalDate ?? EPOCH,
    ...(dispatch.dataIntervalStart && dispatch.dataIntervalEnd && { dataInterval: { start: dispatch.dataIntervalStart, end: dispatch.dataIntervalEnd } }),
    traceparent: dispatch.traceparent || undefined,
  };
}

function parseKubernetesJson(json: string): KubernetesSpec {
  const value: unknown = JSON.parse(json);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('the dispatch\'s kubernetes settings are not a JSON object');
  return value as KubernetesSpec;
}

/** A TaskEvent of `dispatch`'s attempt, stamped now. */
export function taskEvent(dispatch: TaskDispatch, executor: string, kind: TaskEventKind): TaskEvent {
  return {
    attemptId: dispatch.attemptId,
    runId: dispatch.runId,
    task: dispatch.task,
    attempt: dispatch.attempt,
    executor,
    time: new Date(),
    kind,
  };
}

/** Encodes a TaskEvent for `dispatch`'s attempt. */
export function encodeTaskEvent(dispatch: TaskDispatch, executor: string, kind: TaskEventKind): Uint8Array {
  return TaskEvent.encode(taskEvent(dispatch, executor, kind)).finish();
}

/** The terminal event's `kind` for a result: `succeeded`, or `failed` with reason and message. */
export function terminalKind(result: TaskResult, redact: Redactor): TaskEventKind {
  if (result.ok) {
    return {
      $case: 'succeeded',
      succeeded: {
        startTime: result.startTime,
        endTime: result.endTime,
        exitCode: result.exitCode ?? 0,
        outputsJson: result.outputs === undefined ? '' : JSON.stringify(result.outputs),
      },
    };
  }
  return {
    $case: 'failed',
    failed: {
      startTime: result.startTime,
      endTime: result.endTime,
      exitCode: result.exitCode,
      reason: result.reason ?? 'EXIT_CODE',
      message: redact(result.message ?? ''),
    },
  };
}

/** The last line of an attempt's log: how it ended, for people. */
export function outcomeLine(result: TaskResult): string {
  const took = formatDuration(result.endTime.getTime() - result.startTime.getTime());
  if (result.ok) return `exited with code ${result.exitCode ?? 0} in ${took}`;
  const message = result.message ?? '';
  switch (result.reason) {
    case 'EXIT_CODE':
      return `exited with code ${result.exitCode ?? '?'} in ${took}`;
    case 'TIMEOUT':
      return message || `killed: timeout after ${took}`;
    case 'CANCELLED':
      return `killed: ${message || 'cancelled'} after ${took}`;
    case 'SIGNAL':
      return `${message || 'killed by a signal'} after ${took}`;
    case 'SPAWN_FAILED':
      return `failed to start: ${message}`;
    case 'OUTPUT_INVALID':
      return `exited with code ${result.exitCode ?? 0} in ${took}, but ${message}`;
    case 'LOST':
      return `lost after ${took}: ${message}`;
    default:
      return `failed after ${took}: ${message}`;
  }
}
