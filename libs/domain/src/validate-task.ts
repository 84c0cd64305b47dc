/**
 * One task of `spec.tasks`, and the `spec.defaults` applied to every task. Checks are local to the
 * task here; references between tasks (dependsOn, templates, cycles) are checked in validate-graph.ts.
 */
import { checkDuration } from './durations';
import { asBoolean, asInteger, asMap, asSeq, asString, describeNode, Fields, IssueList, itemPath } from './fields';
import { imageReferenceProblem } from './image-reference';
import { readTaskKubernetes, type KubernetesDraft } from './task-kubernetes';
import { readTemplateRef, resolveTaskTemplate, type TemplateRef } from './resolve-template';
import type { TemplateLookup } from './task-template';
import { MAX_POOL_SLOTS, type PoolRef } from './pool';
import { dnsLabelProblem } from './names';
import { readEnv, type LocatedEnvVar, type TemplateSite } from './read-env';
import { didYouMean } from './suggest';
import { DEFAULT_TRIGGER_RULE, TRIGGER_RULES, type TriggerRule } from './trigger-rules';
import type { TaskSpec } from './workflow';
import type { MapNode, Position, TreeNode } from './yaml-tree';

/** The delay before a retry when neither the task nor the defaults set one: 10 s. */
export const DEFAULT_RETRY_DELAY_MS = 10_000;
/** The queue of a task that names none. */
export const DEFAULT_QUEUE = 'default';
/** The most retries a task may have. */
export const MAX_RETRIES = 100;
/** The range of `priority` (higher starts first among tasks waiting for a slot). */
export const MAX_PRIORITY = 1_000_000;

const DEFAULTS_FIELDS = ['retries', 'retryDelay', 'retryBackoff', 'maxRetryDelay', 'retryJitter', 'timeout', 'queuedTimeout', 'queue', 'pool', 'priority', 'env', 'image', 'kubernetes', 'template'];
const TASK_FIELDS = ['name', 'description', 'command', 'args', 'env', 'image', 'dependsOn', 'when', 'retries', 'retryDelay', 'retryBackoff', 'maxRetryDelay', 'retryJitter', 'timeout', 'queuedTimeout', 'queue', 'pool', 'poolSlots', 'priority', 'triggerRule', 'kubernetes', 'template'];

/** `spec.defaults`, validated. */
export interface TaskDefaults {
  readonly retries?: number;
  readonly retryDelayMs?: number;
  readonly retryPolicy?: RetryShape;
  readonly timeoutMs?: number;
  readonly queuedTimeoutMs?: number;
  readonly queue?: string;
  readonly pool?: LocatedName;
  readonly priority?: number;
  readonly image?: TemplateSite;
  readonly env: readonly LocatedEnvVar[];
  readonly kubernetes?: KubernetesDraft;
  /** `template:` of the defaults: every task extends it unless it names its own. */
  readonly template?: TemplateRef;
  /** From a template: the description, command prefix and args of a task that sets none. */
  readonly description?: string;
  readonly commandPrefix?: readonly TemplateSite[];
  readonly args?: readonly TemplateSite[];
}

/** A name with where it was written (for checks against objects known at apply time, e.g. pools). */
export interface LocatedName {
  readonly name: string;
  readonly pos: Position;
  readonly path: string;
}

/** A dependsOn entry with where it was written. */
export interface DependencyRef {
  readonly name: string;
  readonly pos: Position;
  readonly path: string;
}

/** A task as validated so far: its spec (best effort when it has issues) and what graph checks need. */
export interface TaskDraft {
  readonly spec: TaskSpec;
  readonly path: string;
  readonly pos: Position;
  /** Where the name was written; undefined if the task has no valid name. */
  readonly namePos?: Position;
  readonly dependsOn: readonly DependencyRef[];
  /** Every string of the task (its own or from defaults) that may hold templates. */
  readonly templateSites: readonly TemplateSite[];
  /** The pool the task names (its own or from the defaults), checked against the known pools. */
  readonly poolRef?: PoolRef;
}

export function readDuration(node: TreeNode, path: string, issues: IssueList): number | undefined {
  const value = node.kind === 'scalar' ? node.value : undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    issues.add(node.pos, path, `must be a duration such as "30s" or "1h30m", got ${describeNode(node)}`);
    return undefined;
  }
  const result = checkDuration(value);
  if (result.ok) return result.ms;
  issues.add(node.pos, path, result.message);
  return undefined;
}

export function readName(node: TreeNode, path: string, issues: IssueList): string | undefined {
  const name = asString(node, path, issues);
  if (name === undefined) return undefined;
  const problem = dnsLabelProblem(name);
  if (problem !== undefined) {
    issues.add(node.pos, path, problem);
    return undefined;
  }
  return name;
}

export function readImage(node: TreeNode, path: string, issues: IssueList): TemplateSite | undefined {
  const image = asString(node, path, issues, { nonEmpty: true });
  if (image === undefined) return undefined;
  // A templated image is checked when rendered; a literal one now, so a typo fails at apply time.
  const problem = image.includes('{{')
    ? (/\s/.test(image.replace(/\{\{.*?\}\}/g, '')) ? `image ${JSON.stringify(image)} must not contain whitespace` : undefined)
    : imageReferenceProblem(image);
  if (problem !== undefined) {
    issues.add(node.pos, path, problem);
    return undefined;
  }
  return { text: image, pos: node.pos, path };
}

/** A list of strings; every item that is not a string is reported, naming the field, and left out. */
export function readStrings(node: TreeNode, path: string, issues: IssueList, hint = ''): TemplateSite[] | undefined {
  const seq = asSeq(node, path, issues, hint);
  if (!seq) return undefined;
  const out: TemplateSite[] = [];
  seq.items.forEach((item, i) => {
    const text = asString(item, itemPath(path, i), issues);
    if (text !== undefined) out.push({ text, pos: item.pos, path: itemPath(path, i) });
  });
  return out;
}

/** Reads `spec.defaults`. */
export function readDefaults(node: TreeNode, path: string, issues: IssueList): TaskDefaults {
  const map = asMap(node, path, issues);
  if (!map) return { env: [] };
  const f = new Fields(map, path, DEFAULTS_FIELDS, [], issues);
  const at = (key: string) => f.get(key);
  const retries = at('retries');
  const retryDelay = at('retryDelay');
  const timeout = at('timeout');
  const queuedTimeout = at('queuedTimeout');
  const queue = at('queue');
  const pool = at('pool');
  const priority = at('priority');
  const image = at('image');
  const env = at('env');
  const kubernetes = at('kubernetes');
  const template = at('template');
  return {
    ...(template && { template: readTemplateRef(template, f.pathOf('template'), issues) }),
    ...(kubernetes && { kubernetes: readTaskKubernetes(kubernetes, f.pathOf('kubernetes'), issues) }),
    ...(retries && { retries: asInteger(retries, f.pathOf('retries'), issues, 0, MAX_RETRIES) }),
    ...(retryDelay && { retryDelayMs: readDuration(retryDelay, f.pathOf('retryDelay'), issues) }),
    retryPolicy: readRetryShape(f, issues),
    ...(timeout && { timeoutMs: readDuration(timeout, f.pathOf('timeout'), issues) }),
    ...(queuedTimeout && { queuedTimeoutMs: readDuration(queuedTimeout, f.pathOf('queuedTimeout'), issues) }),
    ...(queue && { queue: readName(queue, f.pathOf('queue'), issues) }),
    ...(pool && { pool: readLocatedName(pool, f.pathOf('pool'), issues) }),
    ...(priority && { priority: readPriority(priority, f.pathOf('priority'), issues) }),
    ...(image && { image: readImage(image, f.pathOf('image'), issues) }),
    env: env ? readEnv(env, f.pathOf('env'), issues) : [],
  };
}

function readTriggerRule(node: TreeNode, path: string, issues: IssueList): TriggerRule | undefined {
  const rule = asString(node, path, issues);
  if (rule === undefined) return undefined;
  if ((TRIGGER_RULES as readonly string[]).includes(rule)) return rule as TriggerRule;
  issues.add(node.pos, path, `unknown trigger rule ${JSON.stringify(rule)}${didYouMean(rule, TRIGGER_RULES)}; expected one of ${TRIGGER_RULES.join(', ')}`);
  return undefined;
}

function readDependsOn(node: TreeNode, path: string, issues: IssueList): DependencyRef[] {
  const hint = node.kind === 'scalar' && typeof node.value === 'string' ? ` (write [${node.value}])` : '';
  const items = readStrings(node, path, issues, hint) ?? [];
  const refs: DependencyRef[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.text)) {
      issues.add(item.pos, item.path, `duplicate dependency ${JSON.stringify(item.text)}`);
      continue;
    }
    seen.add(item.text);
    refs.push({ name: item.text, pos: item.pos, path: item.path });
  }
  return refs;
}

/**
 * Reads one task, applying the defaults (and the template it extends, found with `templates`) to the
 * fields it does not set.
 */
export function readTask(node: TreeNode, path: string, workflowDefaults: TaskDefaults, issues: IssueList, templates?: TemplateLookup, templateNames: () => readonly string[] = () => []): TaskDraft | undefined {
  const map: MapNode | undefined = asMap(node, path, issues);
  if (!map) return undefined;
  const f = new Fields(map, path, TASK_FIELDS, ['name'], issues);
  const templateNode = f.get('template');
  const templateRef = templateNode ? readTemplateRef(templateNode, f.pathOf('template'), issues) : workflowDefaults.template;
  const defaults = resolveTaskTemplate(templateRef, workflowDefaults, templates, templateNames, issues);
  const nameNode = f.getRequired('name');
  const name = nameNode && readName(nameNode, f.pathOf('name'), issues);

  const commandNode = f.get('command');
  let command: TemplateSite[] | undefined;
  if (commandNode?.kind === 'scalar' && typeof commandNode.value === 'string') {
    // A string is one program name, not a shell line: no word splitting surprises.
    const text = asString(commandNode, f.pathOf('command'), issues, { nonEmpty: true });
    command = text === undefined ? undefined : [{ text, pos: commandNode.pos, path: f.pathOf('command') }];
  } else if (commandNode) {
    command = readStrings(commandNode, f.pathOf('command'), issues);
    if (command?.length === 0) issues.add(commandNode.pos, f.pathOf('command'), 'must not be empty');
  }
  // A template's command is a prefix: `[mix, run]` + the task's `[priv/load.exs]`.
  if (defaults.commandPrefix) command = [...defaults.commandPrefix, ...(command ?? [])];
  const argsNode = f.get('args');
  const args = argsNode ? readStrings(argsNode, f.pathOf('args'), issues) : [...(defaults.args ?? [])];
  const imageNode = f.get('image');
  const image = imageNode ? readImage(imageNode, f.pathOf('image'), issues) : defaults.image;
  if (!commandNode && !imageNode && !defaults.image && !defaults.commandPrefix) {
    issues.add(map.pos, path, 'a task needs a command or an image');
  }

  const envNode = f.get('env');
  const ownEnv = envNode ? readEnv(envNode, f.pathOf('env'), issues) : [];
  // Defaults' env vars come first; the task's own vars override any of the same name.
  const ownNames = new Set(ownEnv.map((v) => v.env.name));
  const env = [...defaults.env.filter((v) => !ownNames.has(v.env.name)), ...ownEnv];

  const dependsOnNode = f.get('dependsOn');
  const dependsOn = dependsOnNode ? readDependsOn(dependsOnNode, f.pathOf('dependsOn'), issues) : [];
  const retriesNode = f.get('retries');
  const retryDelayNode = f.get('retryDelay');
  const timeoutNode = f.get('timeout');
  const queueNode = f.get('queue');
  const queuedTimeoutNode = f.get('queuedTimeout');
  const poolNode = f.get('pool');
  const poolSlotsNode = f.get('poolSlots');
  const priorityNode = f.get('priority');
  const pool = poolNode ? readLocatedName(poolNode, f.pathOf('pool'), issues) : workflowDefaults.pool;
  const poolSlots = poolSlotsNode ? asInteger(poolSlotsNode, f.pathOf('poolSlots'), issues, 1, MAX_POOL_SLOTS) : 1;
  if (poolSlotsNode && !pool) issues.add(poolSlotsNode.pos, f.pathOf('poolSlots'), 'poolSlots needs a pool: name one with `pool:` (here or in spec.defaults)');
  const priority = priorityNode ? readPriority(priorityNode, f.pathOf('priority'), issues) : workflowDefaults.priority;
  const queuedTimeoutMs = queuedTimeoutNode ? readDuration(queuedTimeoutNode, f.pathOf('queuedTimeout'), issues) : workflowDefaults.queuedTimeoutMs;
  const triggerRuleNode = f.get('triggerRule');
  const descriptionNode = f.get('description');
  const description = (descriptionNode && asString(descriptionNode, f.pathOf('description'), issues)) ?? defaults.description;

  const whenNode = f.get('when');
  const whenText = whenNode && asString(whenNode, f.pathOf('when'), issues, { nonEmpty: true });
  const when: TemplateSite | undefined = whenNode && whenText !== undefined ? { text: whenText, pos: whenNode.pos, path: f.pathOf('when') } : undefined;

  const kubernetesNode = f.get('kubernetes');
  const kubernetes = readTaskKubernetes(kubernetesNode, f.pathOf('kubernetes'), issues, defaults.kubernetes, map.pos);

  const spec: TaskSpec = {
    name: name ?? '',
    ...(description !== undefined && { description }),
    ...(image !== undefined && { image: image.text }),
    command: (command ?? []).map((s) => s.text),
    args: (args ?? []).map((s) => s.text),
    env: env.map((v) => v.env),
    dependsOn: dependsOn.map((d) => d.name),
    ...(when && { when: when.text }),
    retries: (retriesNode ? asInteger(retriesNode, f.pathOf('retries'), issues, 0, MAX_RETRIES) : defaults.retries) ?? 0,
    retryDelayMs: (retryDelayNode ? readDuration(retryDelayNode, f.pathOf('retryDelay'), issues) : defaults.retryDelayMs) ?? DEFAULT_RETRY_DELAY_MS,
    ...retryShapeSpec({ ...defaults.retryPolicy, ...readRetryShape(f, issues) }),
    timeoutMs: (timeoutNode ? readDuration(timeoutNode, f.pathOf('timeout'), issues) : defaults.timeoutMs) ?? 0,
    ...(queuedTimeoutMs ? { queuedTimeoutMs } : {}),
    queue: (queueNode ? readName(queueNode, f.pathOf('queue'), issues) : defaults.queue) ?? DEFAULT_QUEUE,
    ...(pool && { pool: pool.name, poolSlots: poolSlots ?? 1 }),
    ...(priority ? { priority } : {}),
    triggerRule: (triggerRuleNode ? readTriggerRule(triggerRuleNode, f.pathOf('triggerRule'), issues) : undefined) ?? DEFAULT_TRIGGER_RULE,
    ...(kubernetes?.spec && { kubernetes: kubernetes.spec }),
  };
  const templateSites = [...(image ? [image] : []), ...(command ?? []), ...(args ?? []), ...env.map((v) => v.site), ...(when ? [when] : [])];
  return {
    spec,
    path,
    pos: map.pos,
    ...(name !== undefined && nameNode && { namePos: nameNode.pos }),
    dependsOn,
    templateSites,
    ...(pool && {
      poolRef: { name: pool.name, slots: poolSlots ?? 1, pos: pool.pos, path: pool.path, ...(poolSlotsNode && { slotsPos: poolSlotsNode.pos, slotsPath: f.pathOf('poolSlots') }) },
    }),
  };
}

/** A DNS-label name (a pool's) with where it was written. */
function readLocatedName(node: TreeNode, path: string, issues: IssueList): LocatedName | undefined {
  const name = readName(node, path, issues);
  return name === undefined ? undefined : { name, pos: node.pos, path };
}

function readPriority(node: TreeNode, path: string, issues: IssueList): number | undefined {
  return asInteger(node, path, issues, -MAX_PRIORITY, MAX_PRIORITY);
}

/** How retry delays grow, as written in a task or in `defaults` (each field optional). */
export interface RetryShape {
  readonly backoff?: 'fixed' | 'exponential';
  readonly maxDelayMs?: number;
  readonly jitter?: boolean;
}

/** Reads `retryBackoff`, `maxRetryDelay` and `retryJitter` of a task, defaults or template. */
export function readRetryShape(f: Fields, issues: IssueList): RetryShape {
  const backoffNode = f.get('retryBackoff');
  const maxNode = f.get('maxRetryDelay');
  const jitterNode = f.get('retryJitter');
  let backoff: RetryShape['backoff'];
  if (backoffNode) {
    const value = asString(backoffNode, f.pathOf('retryBackoff'), issues);
    if (value === 'fixed' || value === 'exponential') backoff = value;
    else if (value !== undefined) issues.add(backoffNode.pos, f.pathOf('retryBackoff'), `unknown value ${JSON.stringify(value)}${didYouMean(value, ['fixed', 'exponential'])}; expected fixed or exponential`);
  }
  const maxDelayMs = maxNode ? readDuration(maxNode, f.pathOf('maxRetryDelay'), issues) : undefined;
  const jitter = jitterNode ? asBoolean(jitterNode, f.pathOf('retryJitter'), issues) : undefined;
  return { ...(backoff && { backoff }), ...(maxDelayMs !== undefined && { maxDelayMs }), ...(jitter !== undefined && { jitter }) };
}

/** The TaskSpec fields of a retry shape: only what differs from a fixed delay without jitter. */
export function retryShapeSpec(shape: RetryShape): Pick<TaskSpec, 'retryBackoff' | 'maxRetryDelayMs' | 'retryJitter'> {
  return {
    ...(shape.backoff === 'exponential' && { retryBackoff: 'exponential' as const }),
    ...(shape.backoff === 'exponential' && shape.maxDelayMs !== undefined && { maxRetryDelayMs: shape.maxDelayMs }),
    ...(shape.jitter === true && { retryJitter: true as const }),
  };
}
