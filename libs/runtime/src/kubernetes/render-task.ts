/**
 * `skein render`: the Job manifest one task of a workflow would get, as the kubernetes runtime
 * builds it (job-manifest.ts) — for review, or to apply by hand. Run-time values are not known yet:
 * the ids are placeholders of the right shape, params take their defaults, and a template string that
 * needs an upstream task's outputs (or a param without default) is left as written.
 */
import { stringify } from 'yaml';
import { renderTemplate, type TaskSpec, type TemplateContext, type WorkflowSpec, type ParamValue } from '@skein/domain';
import { UnknownTaskError } from './errors';
import { buildJobManifest, type JobManifestSettings } from './job-manifest';
import type { Job } from './kube-objects';

/** The attempt and run id a rendered Job shows (an id's shape: 26 lowercase base32 characters). */
export const RENDER_PLACEHOLDER_ID = '0000000000000000000000000r';

/** What to render, beyond the workflow and the task. */
export interface RenderTaskOptions {
  /** The executor's settings (namespace, default image, output path). */
  readonly settings: JobManifestSettings;
  /** Param values over the workflow's defaults. @default {} */
  readonly params?: Readonly<Record<string, ParamValue>>;
  /** @default {@link RENDER_PLACEHOLDER_ID} */
  readonly runId?: string;
  /** @default {@link RENDER_PLACEHOLDER_ID} */
  readonly attemptId?: string;
  /** @default 1 */
  readonly attempt?: number;
  /** @default now */
  readonly logicalDate?: Date;
}

function renderOrKeep(text: string, ctx: TemplateContext): string {
  try {
    return renderTemplate(text, ctx);
  } catch {
    return text;
  }
}

/**
 * The Job of `taskName` in `workflow` (a normalised spec: templates already resolved).
 * @throws UnknownTaskError when the workflow has no such task.
 */
export function renderTaskJob(workflow: WorkflowSpec, taskName: string, options: RenderTaskOptions): Job {
  const task: TaskSpec | undefined = workflow.spec.tasks.find((t) => t.name === taskName);
  if (!task) {
    const names = workflow.spec.tasks.map((t) => t.name).join(', ');
    throw new UnknownTaskError(`workflow ${JSON.stringify(workflow.metadata.name)} has no task ${JSON.stringify(taskName)} (its tasks: ${names})`);
  }
  const params: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(workflow.spec.params)) if (spec.default !== undefined) params[name] = spec.default;
  Object.assign(params, options.params);
  const logicalDate = options.logicalDate ?? new Date();
  const runId = options.runId ?? RENDER_PLACEHOLDER_ID;
  const ctx: TemplateContext = { params, run: { id: runId, logicalDate, workflow: workflow.metadata.name }, outputs: {} };
  const render = (text: string) => renderOrKeep(text, ctx);
  return buildJobManifest({
    attemptId: options.attemptId ?? RENDER_PLACEHOLDER_ID,
    runId,
    workflow: workflow.metadata.name,
    task: task.name,
    attempt: options.attempt ?? 1,
    ...(task.image !== undefined && { image: render(task.image) }),
    command: task.command.map(render),
    args: task.args.map(render),
    env: task.env.map((v) => ({ ...v, value: render(v.value) })),
    timeoutMs: task.timeoutMs,
    logicalDate,
    ...(task.kubernetes && { kubernetes: task.kubernetes }),
  }, options.settings);
}

/** A manifest as YAML, the way `kubectl apply -f` reads it. */
export function manifestToYaml(job: Job): string {
  return stringify(job, { lineWidth: 0 });
}
