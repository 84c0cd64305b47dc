/**
 * Extending a template: a task's `template: NAME` (or `spec.defaults.template`) layers the template
 * between the workflow defaults and the task: defaults < template < the task's own fields. Scalars
 * of an upper layer win; env and the kubernetes lists merge by name; the template's `command` is a
 * prefix of the task's. The result is part of the task's normalised spec, so a stored workflow
 * version is self-contained.
 */
import { asString, IssueList } from './fields';
import { didYouMean } from './suggest';
import type { LocatedEnvVar, TemplateSite } from './read-env';
import type { TaskTemplateSpec, TemplateLookup } from './task-template';
import { layerKubernetes } from './task-kubernetes';
import type { TaskDefaults } from './validate-task';
import type { Position, TreeNode } from './yaml-tree';

/** Where a `template:` field was written, and the name it gives. */
export interface TemplateRef {
  readonly name: string;
  readonly pos: Position;
  readonly path: string;
}

/** Reads a `template:` field. */
export function readTemplateRef(node: TreeNode, path: string, issues: IssueList): TemplateRef | undefined {
  const name = asString(node, path, issues, { nonEmpty: true });
  return name === undefined ? undefined : { name, pos: node.pos, path };
}

/** `defaults` with `template` layered over them; the template's strings are located at the `template:` field. */
export function layerTemplate(defaults: TaskDefaults, template: TaskTemplateSpec, ref: TemplateRef): TaskDefaults {
  const t = template.spec;
  const site = (text: string, field: string): TemplateSite => ({ text, pos: ref.pos, path: `${ref.path} (template ${template.metadata.name}: ${field})` });
  const templateEnv: LocatedEnvVar[] = (t.env ?? []).map((env) => ({ env, site: site(env.value, `env.${env.name}`) }));
  const templateNames = new Set(templateEnv.map((v) => v.env.name));
  return {
    ...defaults,
    ...(t.retries !== undefined && { retries: t.retries }),
    ...(t.retryDelayMs !== undefined && { retryDelayMs: t.retryDelayMs }),
    ...(t.retryPolicy !== undefined && { retryPolicy: { ...defaults.retryPolicy, ...t.retryPolicy } }),
    ...(t.timeoutMs !== undefined && { timeoutMs: t.timeoutMs }),
    ...(t.queue !== undefined && { queue: t.queue }),
    ...(t.image !== undefined && { image: site(t.image, 'image') }),
    ...(t.description !== undefined && { description: t.description }),
    ...(t.command !== undefined && { commandPrefix: t.command.map((text) => site(text, 'command')) }),
    ...(t.args !== undefined && { args: t.args.map((text) => site(text, 'args')) }),
    env: [...defaults.env.filter((v) => !templateNames.has(v.env.name)), ...templateEnv],
    ...(t.kubernetes && { kubernetes: layerKubernetes(defaults.kubernetes, { spec: t.kubernetes, mounts: [] }) }),
  };
}

/**
 * Resolves the template a task extends (its own `template:` or the defaults'), reporting an unknown
 * one at the field that names it. Returns the defaults to apply to the task.
 */
export function resolveTaskTemplate(ref: TemplateRef | undefined, defaults: TaskDefaults, lookup: TemplateLookup | undefined, known: () => readonly string[], issues: IssueList): TaskDefaults {
  if (!ref) return defaults;
  const template = lookup?.(ref.name);
  if (template) return layerTemplate(defaults, template, ref);
  issues.add(ref.pos, ref.path, `unknown template ${JSON.stringify(ref.name)}${didYouMean(ref.name, known())}: define it in this file (kind: TaskTemplate) or apply it first (skein apply -f)`);
  return defaults;
}
