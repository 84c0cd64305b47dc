import { formatIssue, type ValidationIssue } from './issues';

/** Options every domain error takes. */
export interface DomainErrorOptions {
  readonly cause?: unknown;
}

/** A workflow file (or spec) is invalid; `issues` lists every problem found, not just the first. */
export class WorkflowValidationError extends Error {
  override readonly name = 'WorkflowValidationError';
  readonly code = 'WORKFLOW_INVALID';
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], options: DomainErrorOptions = {}) {
    super(issues.map(formatIssue).join('\n') || 'invalid workflow', { cause: options.cause });
    this.issues = issues;
  }
}

/** A template could not be rendered: a param, run field or upstream output it names has no value. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly code = 'TEMPLATE_RENDER_FAILED';
  /** The template text that failed, e.g. `{{ tasks.extract.outputs.path }}`. */
  readonly template: string;

  constructor(message: string, template: string, options: DomainErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.template = template;
  }
}

/** A duration string or number is not valid. */
export class DurationError extends Error {
  override readonly name = 'DurationError';
  readonly code = 'DURATION_INVALID';

  constructor(message: string, options: DomainErrorOptions = {}) {
    super(message, { cause: options.cause });
  }
}

/** The tasks given to a DAG algorithm that needs an acyclic graph contain a cycle. */
export class WorkflowCycleError extends Error {
  override readonly name = 'WorkflowCycleError';
  readonly code = 'WORKFLOW_CYCLE';
  /** Each cycle as task names, first task not repeated: `['a', 'b', 'c']` is a → b → c → a. */
  readonly cycles: readonly (readonly string[])[];

  constructor(cycles: readonly (readonly string[])[], options: DomainErrorOptions = {}) {
    super(cycles.map((c) => `cycle: ${[...c, c[0]].join(' -> ')}`).join('\n'), { cause: options.cause });
    this.cycles = cycles;
  }
}

/** One problem with the params given to a run. */
export interface ParamIssue {
  readonly param: string;
  readonly message: string;
}

/** The params given to a run are invalid; `issues` lists every problem found. */
export class ParamsInvalidError extends Error {
  override readonly name = 'ParamsInvalidError';
  readonly code = 'PARAMS_INVALID';
  readonly issues: readonly ParamIssue[];

  constructor(issues: readonly ParamIssue[], options: DomainErrorOptions = {}) {
    super(issues.map((i) => `param ${JSON.stringify(i.param)}: ${i.message}`).join('\n') || 'invalid params', {
      cause: options.cause,
    });
    this.issues = issues;
  }
}

/** A schedule or its time zone is not valid. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
  readonly code = 'SCHEDULE_INVALID';

  constructor(message: string, options: DomainErrorOptions = {}) {
    super(message, { cause: options.cause });
  }
}
