/**
 * Rendering task templates at dispatch time, once params, the run and upstream outputs are known.
 * Syntax and parse-time checks are in template-syntax.ts.
 */
import type { ParamValue } from './params';
import { canonicalJson } from './canonical-json';
import { TemplateError } from './errors';
import { hasTemplate, parseTemplate, type TemplateExpression } from './template-syntax';
import type { TaskSpec } from './workflow';

/** What templates are rendered against. */
export interface TemplateContext {
  /** The run's resolved params (see resolveParams). */
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly run: {
    readonly id: string;
    /** Rendered as an RFC 3339 UTC timestamp, e.g. `2026-01-01T00:00:00.000Z`. */
    readonly logicalDate: Date;
    /** The workflow's name. */
    readonly workflow: string;
    /** The run's data interval; absent: both ends are the logical date. */
    readonly dataInterval?: { readonly start: Date; readonly end: Date };
  };
  /** Outputs of finished upstream tasks, by task name. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Strings as they are; objects and arrays as canonical JSON (keys sorted: the same value always renders
 * the same, whatever order the database keeps keys in); other scalars with String().
 */
function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') return canonicalJson(value);
  return String(value);
}

function valueOf(e: TemplateExpression, source: string, ctx: TemplateContext): string {
  switch (e.kind) {
    case 'literal':
      return e.text;
    case 'param': {
      if (!Object.hasOwn(ctx.params, e.name)) throw new TemplateError(`${source}: param ${JSON.stringify(e.name)} has no value`, source);
      // `params.filters.region`: a key of an object param's value.
      let value: unknown = ctx.params[e.name];
      for (const [i, key] of (e.path ?? []).entries()) {
        if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) {
          const at = ['params', e.name, ...(e.path ?? []).slice(0, i)].join('.');
          throw new TemplateError(`${source}: ${at} has no key ${JSON.stringify(key)}`, source);
        }
        value = (value as Record<string, unknown>)[key];
      }
      return stringify(value);
    }
    case 'run':
      if (e.field === 'id') return ctx.run.id;
      if (e.field === 'workflow') return ctx.run.workflow;
      if (e.field === 'dataInterval.start') return (ctx.run.dataInterval?.start ?? ctx.run.logicalDate).toISOString();
      if (e.field === 'dataInterval.end') return (ctx.run.dataInterval?.end ?? ctx.run.logicalDate).toISOString();
      if (Number.isNaN(ctx.run.logicalDate.getTime())) throw new TemplateError(`${source}: the run's logical date is invalid`, source);
      return ctx.run.logicalDate.toISOString();
    case 'output': {
      const outputs = Object.hasOwn(ctx.outputs, e.task) ? ctx.outputs[e.task] : undefined;
      if (outputs === undefined) {
        throw new TemplateError(`${source}: task ${JSON.stringify(e.task)} has no outputs (it wrote none, or has not succeeded)`, source);
      }
      if (!Object.hasOwn(outputs, e.key) || outputs[e.key] === undefined) {
        const keys = Object.keys(outputs);
        const has = keys.length === 0 ? 'it wrote none' : `it wrote ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
        throw new TemplateError(`${source}: task ${JSON.stringify(e.task)} has no output ${JSON.stringify(e.key)} (${has})`, source);
      }
      return stringify(outputs[e.key]);
    }
  }
}

/**
 * Renders one template string.
 *
 * @throws TemplateError if the string is not a valid template or a value it names is missing.
 */
export function renderTemplate(text: string, ctx: TemplateContext): string {
  if (!hasTemplate(text)) return text;
  const { parts, problems } = parseTemplate(text);
  if (problems.length > 0) throw new TemplateError(problems.join('; '), text);
  return parts.map((p) => (p.kind === 'text' ? p.text : valueOf(p.expression, p.source, ctx))).join('');
}

/**
 * The task with the templates in its command, args, env values and image rendered; everything else
 * is unchanged.
 *
 * @throws TemplateError if a param, run field or upstream output it names has no value.
 */
export function renderTaskTemplates(task: TaskSpec, ctx: TemplateContext): TaskSpec {
  const render = (s: string) => renderTemplate(s, ctx);
  return {
    ...task,
    ...(task.image === undefined ? {} : { image: render(task.image) }),
    command: task.command.map(render),
    args: task.args.map(render),
    env: task.env.map((v) => ({ ...v, value: render(v.value) })),
  };
}

/** The strings of a task that may hold templates, in a fixed order. */
function templatedStrings(task: Pick<TaskSpec, 'command' | 'args' | 'env' | 'image' | 'when'>): string[] {
  return [...(task.image === undefined ? [] : [task.image]), ...task.command, ...task.args, ...task.env.map((v) => v.value), ...(task.when === undefined ? [] : [task.when])];
}

/**
 * Names of the tasks whose outputs this task's templates read, each once, in order of first use:
 * the outputs the scheduler must load before rendering. Invalid templates are ignored.
 */
export function referencedTasks(task: Pick<TaskSpec, 'command' | 'args' | 'env' | 'image' | 'when'>): string[] {
  const names = new Set<string>();
  for (const text of templatedStrings(task)) {
    if (!hasTemplate(text)) continue;
    for (const part of parseTemplate(text).parts) {
      if (part.kind === 'expression' && part.expression.kind === 'output') names.add(part.expression.task);
    }
  }
  return [...names];
}
