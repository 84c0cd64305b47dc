/**
 * @skein/domain — Skein's pure domain: the workflow file format and its validation, templates,
 * params, DAG algorithms, states and trigger rules, schedules, retry policy and ids. No I/O.
 */

// The normalised workflow
export type { EnvVar, ParamSpec, ParamType, TaskSpec, WorkflowSpec } from './workflow';
export { CLEANUP_POLICIES } from './kubernetes-spec';
export type {
  CleanupPolicy,
  JsonObject,
  KubernetesEnvFrom,
  KubernetesEnvSource,
  KubernetesResources,
  KubernetesSpec,
  KubernetesToleration,
  KubernetesVolumeMount,
} from './kubernetes-spec';

// Parsing and validating workflow files
export { parseWorkflowFile, workflowDigest, MAX_WORKFLOW_FILE_BYTES } from './parse-workflow';
export type { ParsedPool, ParsedTemplate, ParsedWorkflow, ParseOptions, ParseResult } from './parse-workflow';

// The ListWorkflows filter
export { MAX_FILTER_LENGTH, parseWorkflowFilter } from './workflow-filter';
export type { WorkflowFilterTerm } from './workflow-filter';

// Pools
export { MAX_POOL_SLOTS, POOL_KIND } from './pool';
export type { PoolLookup, PoolSpec } from './pool';

// Task templates and Kubernetes settings
export { TASK_TEMPLATE_KIND, templateDigest } from './task-template';
export type { TaskTemplateFields, TaskTemplateSpec, TemplateLookup } from './task-template';
export { imageReferenceProblem, quantityProblem } from './image-reference';
export { mergeKubernetesSpec } from './merge-kubernetes';
export { API_VERSION, MAX_LOG_RETENTION_DAYS, MAX_TASKS } from './validate-workflow';
export { labelKeyProblem, labelValueProblem } from './names';
export { DEFAULT_QUEUE, DEFAULT_RETRY_DELAY_MS, MAX_PRIORITY, MAX_RETRIES } from './validate-task';
export { compareIssues, formatIssue } from './issues';
export type { ValidationIssue } from './issues';
export { canonicalJson } from './canonical-json';

// Errors
export { DurationError, ParamsInvalidError, ScheduleError, TemplateError, WorkflowCycleError, WorkflowValidationError } from './errors';
export type { DomainErrorOptions, ParamIssue } from './errors';

// Templates
export { referencedTasks, renderTaskTemplates, renderTemplate } from './templates';
export type { TemplateContext } from './templates';

// Params at trigger time
export { coerceParamValue, MAX_OBJECT_PARAM_BYTES, PARAM_TYPES, resolveParams } from './params';
export type { ParamObject, ParamValue, ResolvedParams } from './params';

// DAG
export { downstreamOf, findCycles, rootTasks, topologicalOrder, upstreamClosure, upstreamClosures } from './dag';
export type { DagTask } from './dag';

// States and trigger rules
export {
  ATTEMPT_STATES,
  deriveRunState,
  isAttemptState,
  isRunState,
  isTaskRunState,
  isTerminalAttemptState,
  isTerminalRunState,
  isTerminalTaskState,
  RUN_STATES,
  TASK_RUN_STATES,
} from './states';
export type { AttemptState, RunState, TaskRunState } from './states';
export { DEFAULT_TRIGGER_RULE, evaluateTriggerRule, isTriggerRule, TRIGGER_RULES, countUpstreamOutcomes, evaluateTriggerRuleForOutcomes } from './trigger-rules';
export type { TriggerDecision, TriggerRule, UpstreamOutcomes } from './trigger-rules';

// Retry policy
export { DEFAULT_MAX_RETRY_DELAY_MS, hasRetriesLeft, retryDelayFor } from './retry-policy';

// Schedules
export {
  DEFAULT_TIMEZONE,
  isValidTimeZone,
  latestScheduleTime,
  nextScheduleTime,
  SCHEDULE_PRESETS,
  scheduleProblem,
  scheduleTimesBetween,
} from './schedule';

// Durations
export { formatDuration, MAX_DURATION_MS, parseDuration } from './durations';

// Ids and names
export { createIdGenerator, idTime, isId, newId } from './ids';
export type { IdGenerator } from './ids';
export { isDnsLabel } from './names';
export { closestMatch, didYouMean } from './suggest';
export { dueIntervals, intervalsBetween, type DataInterval, type DueIntervalsInput, type ScheduleSpec } from './data-intervals';
export { evaluateCondition } from './conditions';
