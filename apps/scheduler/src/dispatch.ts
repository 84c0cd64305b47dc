import { evaluateCondition, nextScheduleTime, renderTaskTemplates, renderTemplate, referencedTasks, type TaskSpec, type TemplateContext, type WorkflowSpec, type ParamValue } from '@skein/domain';
import { TaskDispatch } from '@skein/proto';
import { subjects } from '@skein/bus';
import type { OutboxMessage } from '@skein/store';

export interface DispatchRun {
  readonly id: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly params: Record<string, ParamValue>;
  readonly logicalDate: Date;
  /** For a scheduled or backfilled run, its schedule interval; absent: both ends are the logical date. */
  readonly dataInterval?: { readonly start: Date; readonly end: Date };
}

export interface DispatchInput {
  readonly run: DispatchRun;
  readonly task: TaskSpec;
  readonly attemptId: string;
  readonly attempt: number;
  /** Outputs of the upstream tasks this task's templates reference. */
  readonly outputs: ReadonlyMap<string, Record<string, unknown>>;
  readonly traceparent: string;
  readonly now: Date;
}

/** Tasks whose outputs a task's templates read (so only those are loaded). */
export function outputsNeeded(task: TaskSpec): string[] {
  return referencedTasks(task);
}

function templateContext(run: DispatchRun, outputs: ReadonlyMap<string, Record<string, unknown>>): TemplateContext {
  return {
    params: run.params, outputs: Object.fromEntries(outputs),
    run: { id: run.id, logicalDate: run.logicalDate, workflow: run.workflowId, ...(run.dataInterval && { dataInterval: run.dataInterval }) },
  };
}

/**
 * Whether a ready task should run: its `when:` rendered against the run and evaluated (no `when`: true).
 * Throws the domain's TemplateError when the condition cannot be rendered.
 */
export function conditionHolds(run: DispatchRun, task: TaskSpec, outputs: ReadonlyMap<string, Record<string, unknown>>): boolean {
  return task.when === undefined || evaluateCondition(renderTemplate(task.when, templateContext(run, outputs)));
}

/**
 * The outbox message that dispatches one attempt: templates rendered against the run, subject per
 * queue, and the attempt id as the message id so a re-publish is deduplicated by the stream.
 * Throws the domain's TemplateError when a template cannot be rendered.
 */
export function buildDispatch(input: DispatchInput): OutboxMessage {
  const { run, attemptId } = input;
  const task = renderTaskTemplates(input.task, templateContext(run, input.outputs));
  const message = TaskDispatch.fromPartial({
    attemptId,
    runId: run.id,
    workflow: run.workflowId,
    workflowVersion: run.workflowVersion,
    task: task.name,
    attempt: input.attempt,
    queue: task.queue,
    runtime: '',
    image: task.image ?? '',
    command: [...task.command],
    args: [...task.args],
    env: task.env.map((e) => ({ name: e.name, value: e.value, secret: e.secret })),
    timeoutMs: task.timeoutMs,
    logicalDate: run.logicalDate,
    dataIntervalStart: run.dataInterval?.start ?? run.logicalDate,
    dataIntervalEnd: run.dataInterval?.end ?? run.logicalDate,
    traceparent: input.traceparent,
    dispatchTime: input.now,
    kubernetesJson: task.kubernetes ? JSON.stringify(task.kubernetes) : '',
  });
  return {
    subject: subjects.dispatch(task.queue),
    msgId: attemptId,
    payload: TaskDispatch.encode(message).finish(),
    headers: input.traceparent ? { traceparent: input.traceparent } : {},
  };
}

/**
 * The run's data interval: a scheduled or backfilled run covers its schedule interval
 * [logical date, next fire time); any other run, just its logical date.
 */
export function dispatchRunOf(run: Omit<DispatchRun, 'dataInterval'> & { readonly trigger: string }, spec: WorkflowSpec): DispatchRun {
  const { schedule, timezone } = spec.spec;
  if (!schedule || (run.trigger !== 'schedule' && run.trigger !== 'backfill')) return run;
  const end = nextScheduleTime(schedule, timezone, run.logicalDate);
  return end ? { ...run, dataInterval: { start: run.logicalDate, end } } : run;
}
