import {
  AttemptState, LogStream, RunState, TaskRunState,
  type Attempt, type LogEntry, type Run, type TaskRun, type Workflow, type WorkflowVersion,
} from '@skein/proto';
import type { AttemptRecord, LogLineRecord, RunRecord, TaskRunRecord, WorkflowRecord, WorkflowVersionRecord } from '@skein/store';
import type { TaskSpec, WorkflowSpec } from '@skein/domain';
import { runName, taskRunName, workflowName, workflowVersionName } from './resource-names';

/**
 * Store records → public proto messages: the only place where the API's wire shapes are built from
 * rows. States are lowercase strings in the store and prefixed enums on the wire.
 */

const RUN_STATES: Record<RunRecord['state'], RunState> = {
  queued: RunState.RUN_STATE_QUEUED,
  running: RunState.RUN_STATE_RUNNING,
  succeeded: RunState.RUN_STATE_SUCCEEDED,
  failed: RunState.RUN_STATE_FAILED,
  cancelled: RunState.RUN_STATE_CANCELLED,
};

const TASK_RUN_STATES: Record<TaskRunRecord['state'], TaskRunState> = {
  pending: TaskRunState.TASK_RUN_STATE_PENDING,
  queued: TaskRunState.TASK_RUN_STATE_QUEUED,
  running: TaskRunState.TASK_RUN_STATE_RUNNING,
  succeeded: TaskRunState.TASK_RUN_STATE_SUCCEEDED,
  failed: TaskRunState.TASK_RUN_STATE_FAILED,
  up_for_retry: TaskRunState.TASK_RUN_STATE_UP_FOR_RETRY,
  scheduled: TaskRunState.TASK_RUN_STATE_SCHEDULED,
  skipped: TaskRunState.TASK_RUN_STATE_SKIPPED,
  upstream_failed: TaskRunState.TASK_RUN_STATE_UPSTREAM_FAILED,
  cancelled: TaskRunState.TASK_RUN_STATE_CANCELLED,
};

const ATTEMPT_STATES: Record<AttemptRecord['state'], AttemptState> = {
  queued: AttemptState.ATTEMPT_STATE_QUEUED,
  running: AttemptState.ATTEMPT_STATE_RUNNING,
  succeeded: AttemptState.ATTEMPT_STATE_SUCCEEDED,
  failed: AttemptState.ATTEMPT_STATE_FAILED,
  lost: AttemptState.ATTEMPT_STATE_LOST,
  cancelled: AttemptState.ATTEMPT_STATE_CANCELLED,
};

const LOG_STREAMS: Record<LogLineRecord['stream'], LogStream> = {
  1: LogStream.LOG_STREAM_STDOUT,
  2: LogStream.LOG_STREAM_STDERR,
  3: LogStream.LOG_STREAM_SYSTEM,
};

// A state the database holds but this build does not know (a newer scheduler wrote it) shows as
// UNSPECIFIED rather than failing the whole read.
export function toRunState(state: string): RunState {
  return RUN_STATES[state as RunRecord['state']] ?? RunState.RUN_STATE_UNSPECIFIED;
}

export function toTaskRunState(state: string): TaskRunState {
  return TASK_RUN_STATES[state as TaskRunRecord['state']] ?? TaskRunState.TASK_RUN_STATE_UNSPECIFIED;
}

export function toAttemptState(state: string): AttemptState {
  return ATTEMPT_STATES[state as AttemptRecord['state']] ?? AttemptState.ATTEMPT_STATE_UNSPECIFIED;
}

/** A JSON value as a Struct payload: drops `undefined` members, which Struct cannot hold. */
function structOf(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

function timeOf(date: Date | null): Date | undefined {
  return date ?? undefined;
}

export function toWorkflow(record: WorkflowRecord): Workflow {
  return {
    name: workflowName(record.id),
    workflowId: record.id,
    currentVersion: record.currentVersion,
    labels: { ...record.labels },
    schedule: record.schedule ?? '',
    spec: structOf(record.spec),
    createTime: record.createTime,
    updateTime: record.updateTime,
    paused: record.paused,
  };
}

export function toWorkflowVersion(record: WorkflowVersionRecord): WorkflowVersion {
  return {
    name: workflowVersionName(record.workflowId, record.version),
    version: record.version,
    spec: structOf(record.spec),
    digest: record.digest,
    createTime: record.createTime,
  };
}

export function toRun(record: RunRecord): Run {
  return {
    name: runName(record.workflowId, record.id),
    runId: record.id,
    workflow: record.workflowId,
    workflowVersion: record.workflowVersion,
    state: toRunState(record.state),
    trigger: record.trigger,
    params: structOf(record.params),
    logicalDate: record.logicalDate,
    createTime: record.createTime,
    startTime: timeOf(record.startTime),
    endTime: timeOf(record.endTime),
    reason: record.reason,
  };
}

export function toAttempt(record: AttemptRecord): Attempt {
  return {
    number: record.number,
    attemptId: record.id,
    state: toAttemptState(record.state),
    exitCode: record.exitCode ?? undefined,
    reason: record.reason,
    message: record.message,
    outputs: record.outputs === null ? undefined : structOf(record.outputs),
    executor: record.executor,
    queueTime: record.queueTime,
    startTime: timeOf(record.startTime),
    endTime: timeOf(record.endTime),
  };
}

/**
 * A task run with its attempts (oldest first) and its upstream tasks, which come from the workflow
 * version the run is pinned to.
 */
export function toTaskRun(workflowId: string, record: TaskRunRecord, attempts: readonly AttemptRecord[], spec: WorkflowSpec): TaskRun {
  const task = spec.spec.tasks.find((t) => t.name === record.task);
  const dependsOn = task?.dependsOn ?? [];
  return {
    waitingFor: record.state === 'scheduled' ? waitingFor(spec, task) : '',
    name: taskRunName(workflowId, record.runId, record.task),
    task: record.task,
    state: toTaskRunState(record.state),
    attempts: [...attempts].sort((a, b) => a.number - b.number).map(toAttempt),
    dependsOn: [...dependsOn],
    startTime: timeOf(record.startTime),
    endTime: timeOf(record.endTime),
  };
}

export function toLogEntry(attempt: number, line: LogLineRecord): LogEntry {
  return {
    attempt,
    sequence: line.sequence,
    stream: LOG_STREAMS[line.stream] ?? LogStream.LOG_STREAM_UNSPECIFIED,
    time: line.time,
    line: line.text,
  };
}

/** What a SCHEDULED task waits for: its pool's slots, its workflow's maxActiveTasks, or either. */
function waitingFor(spec: WorkflowSpec, task: TaskSpec | undefined): string {
  const limits = [
    ...(task?.pool !== undefined ? [`pool ${task.pool}${(task.poolSlots ?? 1) > 1 ? ` (${task.poolSlots} slots)` : ''}`] : []),
    ...(spec.spec.maxActiveTasks !== undefined ? [`maxActiveTasks ${spec.spec.maxActiveTasks}`] : []),
  ];
  return limits.join(' and ');
}
