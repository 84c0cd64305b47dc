import type { TaskLaunch } from './runtime';

/** The executor's own variables a local task inherits; everything else stays private to the executor. */
export const INHERITED_ENV_NAMES: readonly string[] = ['PATH', 'HOME', 'LANG', 'TZ'];

/** Picks {@link INHERITED_ENV_NAMES} out of an environment. */
export function pickInheritedEnv(source: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of INHERITED_ENV_NAMES) {
    const value = source[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

/**
 * The environment of one attempt: the inherited base, then the task's own variables, then the
 * `SKEIN_*` variables (last, so a task cannot spoof its identity or output path).
 */
export function buildTaskEnv(base: Readonly<Record<string, string>>, task: TaskLaunch, outputPath: string): Record<string, string> {
  const env: Record<string, string> = { ...base };
  for (const variable of task.env) env[variable.name] = variable.value;
  env['SKEIN_RUN_ID'] = task.runId;
  env['SKEIN_WORKFLOW'] = task.workflow;
  env['SKEIN_TASK'] = task.task;
  env['SKEIN_ATTEMPT'] = String(task.attempt);
  env['SKEIN_ATTEMPT_ID'] = task.attemptId;
  env['SKEIN_LOGICAL_DATE'] = task.logicalDate.toISOString();
  env['SKEIN_DATA_INTERVAL_START'] = (task.dataInterval?.start ?? task.logicalDate).toISOString();
  env['SKEIN_DATA_INTERVAL_END'] = (task.dataInterval?.end ?? task.logicalDate).toISOString();
  env['SKEIN_OUTPUT_PATH'] = outputPath;
  if (task.traceparent) env['TRACEPARENT'] = task.traceparent;
  return env;
}
