import { invalidArgument } from './errors';
import { checkLength, MAX_NAME_LENGTH, quote } from './limits';

/**
 * Resource names of the public API (https://google.aip.dev/122), parsed strictly: a malformed name is
 * an INVALID_ARGUMENT naming the request field, never a NOT_FOUND, so a caller's typo in the shape
 * of a name is not mistaken for a missing resource.
 */

/** The `-` wildcard workflow: "any workflow" (AIP-159). */
export const ANY_WORKFLOW = '-';

// Workflow, task and run ids are DNS-label-like or identifier-like; this is deliberately a little
// wider than what the workflow validator accepts, so a name that could exist is never rejected here.
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export interface WorkflowName {
  /** The workflow id, or `-` where allowed. */
  readonly workflowId: string;
}

export interface RunName {
  /** The workflow id, or `-` when the run was named without its workflow. */
  readonly workflowId: string;
  readonly runId: string;
}

export interface TaskRunName extends RunName {
  readonly task: string;
}

function segments(value: string, field: string, shape: string): string[] {
  if (value === '') throw invalidArgument(field, `is required: expected ${shape}`);
  checkLength(value, field, MAX_NAME_LENGTH);
  return value.split('/');
}

function checkSegment(value: string | undefined, field: string, what: string, shape: string, allowAny: boolean): string {
  if (value !== undefined && ((allowAny && value === ANY_WORKFLOW) || SEGMENT.test(value))) return value;
  throw invalidArgument(field, `${quote(value ?? '')} is not a valid ${what} in a name of the form ${shape}`);
}

function malformed(field: string, value: string, shape: string): Error {
  return invalidArgument(field, `${quote(value)} is not a resource name of the form ${shape}`);
}

/**
 * `workflows/{workflow}`; with `allowAny`, also `workflows/-`.
 * @param field the request field, named in the error.
 */
export function parseWorkflowName(value: string, field: string, options: { allowAny?: boolean } = {}): WorkflowName {
  const shape = options.allowAny ? '`workflows/{workflow}` or `workflows/-`' : '`workflows/{workflow}`';
  const parts = segments(value, field, shape);
  if (parts.length !== 2 || parts[0] !== 'workflows') throw malformed(field, value, shape);
  return { workflowId: checkSegment(parts[1], field, 'workflow id', shape, options.allowAny ?? false) };
}

/** `workflows/{workflow}/runs/{run}` or `workflows/-/runs/{run}`. */
export function parseRunName(value: string, field: string): RunName {
  const shape = '`workflows/{workflow}/runs/{run}`';
  const parts = segments(value, field, shape);
  if (parts.length !== 4 || parts[0] !== 'workflows' || parts[2] !== 'runs') throw malformed(field, value, shape);
  return {
    workflowId: checkSegment(parts[1], field, 'workflow id', shape, true),
    runId: checkSegment(parts[3], field, 'run id', shape, false),
  };
}

/** `workflows/{workflow}/runs/{run}/tasks/{task}` (the workflow may be `-`). */
export function parseTaskRunName(value: string, field: string): TaskRunName {
  const shape = '`workflows/{workflow}/runs/{run}/tasks/{task}`';
  const parts = segments(value, field, shape);
  if (parts.length !== 6 || parts[0] !== 'workflows' || parts[2] !== 'runs' || parts[4] !== 'tasks') throw malformed(field, value, shape);
  return {
    workflowId: checkSegment(parts[1], field, 'workflow id', shape, true),
    runId: checkSegment(parts[3], field, 'run id', shape, false),
    task: checkSegment(parts[5], field, 'task name', shape, false),
  };
}

export function workflowName(workflowId: string): string {
  return `workflows/${workflowId}`;
}

export function runName(workflowId: string, runId: string): string {
  return `workflows/${workflowId}/runs/${runId}`;
}

export function taskRunName(workflowId: string, runId: string, task: string): string {
  return `workflows/${workflowId}/runs/${runId}/tasks/${task}`;
}

export function workflowVersionName(workflowId: string, version: number): string {
  return `workflows/${workflowId}/versions/${version}`;
}
