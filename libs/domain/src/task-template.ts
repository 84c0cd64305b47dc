/**
 * `kind: TaskTemplate` documents: named, reusable task settings (image, command prefix, env,
 * kubernetes, retries, timeout, queue) that a task extends with `template: NAME`. A template is
 * normalised like a workflow (durations in ms, env as a list) and stored as such; resolving it into a
 * task happens at apply time (resolve-template.ts), so a stored workflow version never depends on a
 * template that may change later.
 */
import { sha256OfCanonicalJson } from './canonical-json';
import { asInteger, asMap, asString, Fields, IssueList } from './fields';
import type { KubernetesSpec } from './kubernetes-spec';
import { readEnv } from './read-env';
import { readKubernetes } from './read-kubernetes';
import { MAX_RETRIES, readDuration, readImage, readName, readRetryShape, readStrings, type RetryShape } from './validate-task';
import { API_VERSION, readObjectHeader } from './validate-workflow';
import type { EnvVar } from './workflow';
import type { TreeNode } from './yaml-tree';

/** The task fields a template may preset. Absent fields leave the task's (or the defaults') alone. */
export interface TaskTemplateFields {
  readonly description?: string;
  readonly image?: string;
  /** Prepended to the task's own `command`. */
  readonly command?: readonly string[];
  /** The task's `args` when it sets none. */
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly kubernetes?: KubernetesSpec;
  readonly retries?: number;
  readonly retryDelayMs?: number;
  /** How retry delays grow (retryBackoff, maxRetryDelay, retryJitter). */
  readonly retryPolicy?: RetryShape;
  readonly timeoutMs?: number;
  readonly queue?: string;
}

/** A normalised TaskTemplate: what is stored and what tasks are resolved against. */
export interface TaskTemplateSpec {
  readonly apiVersion: 'skein.dev/v1';
  readonly kind: 'TaskTemplate';
  readonly metadata: { readonly name: string; readonly labels: Readonly<Record<string, string>> };
  readonly spec: TaskTemplateFields;
}

/** Finds a template by name (a file's own, then stored ones); undefined when there is none. */
export type TemplateLookup = (name: string) => TaskTemplateSpec | undefined;

/** The kind of a TaskTemplate document. */
export const TASK_TEMPLATE_KIND = 'TaskTemplate';

const TOP_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec'];
const SPEC_FIELDS = ['description', 'image', 'command', 'args', 'env', 'kubernetes', 'retries', 'retryDelay', 'retryBackoff', 'maxRetryDelay', 'retryJitter', 'timeout', 'queue'];

/** sha256 (hex) of a template's canonical JSON: equal templates have equal digests. */
export function templateDigest(spec: TaskTemplateSpec): string {
  return sha256OfCanonicalJson(spec);
}

/** Validates one `kind: TaskTemplate` document; undefined when it has any issue (all added to `issues`). */
export function validateTemplateDocument(root: TreeNode, issues: IssueList): TaskTemplateSpec | undefined {
  const before = issues.count;
  const map = asMap(root, '', issues);
  if (!map) return undefined;
  const top = new Fields(map, '', TOP_FIELDS, TOP_FIELDS, issues);
  const { name, labels } = readObjectHeader(top, issues);

  const specNode = top.getRequired('spec');
  const specMap = specNode && asMap(specNode, 'spec', issues);
  if (!specMap) return undefined;
  const s = new Fields(specMap, 'spec', SPEC_FIELDS, [], issues);
  const at = (key: string) => s.get(key);
  const n = {
    description: at('description'), image: at('image'), command: at('command'), args: at('args'), env: at('env'),
    kubernetes: at('kubernetes'), retries: at('retries'), retryDelay: at('retryDelay'), timeout: at('timeout'), queue: at('queue'),
  };
  const strings = (node: TreeNode, path: string) => {
    // `command: python` is one program name, as in a task.
    if (node.kind === 'scalar') {
      const text = asString(node, path, issues, { nonEmpty: true });
      return text === undefined ? undefined : [text];
    }
    return readStrings(node, path, issues)?.map((site) => site.text);
  };
  const spec: TaskTemplateFields = {
    ...(n.description && { description: asString(n.description, s.pathOf('description'), issues) }),
    ...(n.image && { image: readImage(n.image, s.pathOf('image'), issues)?.text }),
    ...(n.command && { command: strings(n.command, s.pathOf('command')) }),
    ...(n.args && { args: readStrings(n.args, s.pathOf('args'), issues)?.map((site) => site.text) }),
    ...(n.env && { env: readEnv(n.env, s.pathOf('env'), issues).map((v) => v.env) }),
    ...(n.kubernetes && { kubernetes: readKubernetes(n.kubernetes, s.pathOf('kubernetes'), issues).spec }),
    ...(n.retries && { retries: asInteger(n.retries, s.pathOf('retries'), issues, 0, MAX_RETRIES) }),
    ...(n.retryDelay && { retryDelayMs: readDuration(n.retryDelay, s.pathOf('retryDelay'), issues) }),
    ...retryPolicyOf(readRetryShape(s, issues)),
    ...(n.timeout && { timeoutMs: readDuration(n.timeout, s.pathOf('timeout'), issues) }),
    ...(n.queue && { queue: readName(n.queue, s.pathOf('queue'), issues) }),
  };
  if (issues.count > before || name === undefined) return undefined;
  return { apiVersion: API_VERSION, kind: 'TaskTemplate', metadata: { name, labels }, spec };
}

function retryPolicyOf(shape: RetryShape): { retryPolicy?: RetryShape } {
  return Object.keys(shape).length > 0 ? { retryPolicy: shape } : {};
}
