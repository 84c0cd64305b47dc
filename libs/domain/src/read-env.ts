/**
 * A task's `env`, in either of its two forms:
 *   env: {LOG_LEVEL: debug}                         (a map: plain values)
 *   env: [{name: TOKEN, value: abc, secret: true}]  (a list: can mark secrets)
 */
import { asBoolean, asMap, asString, childPath, Fields, IssueList, itemPath } from './fields';
import { envNameProblem } from './names';
import type { EnvVar } from './workflow';
import type { Position, TreeNode } from './yaml-tree';

/** A string that may hold templates, with where it was written. */
export interface TemplateSite {
  readonly text: string;
  readonly pos: Position;
  readonly path: string;
}

/** An env var with where its value was written. */
export interface LocatedEnvVar {
  readonly env: EnvVar;
  readonly site: TemplateSite;
}

const ENV_ITEM_FIELDS = ['name', 'value', 'secret'];

/** Reads `env` in map or list form; reports bad names, non-string values and duplicates. */
export function readEnv(node: TreeNode, path: string, issues: IssueList): LocatedEnvVar[] {
  const vars: LocatedEnvVar[] = [];
  const firstLine = new Map<string, number>();
  const add = (name: string, namePos: Position, namePath: string, value: string | undefined, valueNode: TreeNode, valuePath: string, secret: boolean) => {
    const problem = envNameProblem(name);
    if (problem !== undefined) issues.add(namePos, namePath, problem);
    const first = firstLine.get(name);
    if (first !== undefined) {
      issues.add(namePos, namePath, `duplicate env var ${JSON.stringify(name)} (first set on line ${first})`);
      return;
    }
    firstLine.set(name, namePos.line);
    if (value === undefined) return;
    vars.push({ env: { name, value, secret }, site: { text: value, pos: valueNode.pos, path: valuePath } });
  };

  if (node.kind === 'map') {
    for (const entry of node.entries) {
      const valuePath = childPath(path, entry.key);
      const value = asString(entry.value, valuePath, issues);
      add(entry.key, entry.keyPos, valuePath, value, entry.value, valuePath, false);
    }
    return vars;
  }
  if (node.kind !== 'seq') {
    issues.add(node.pos, path, 'must be a map of NAME: value, or a list of {name, value, secret}');
    return vars;
  }
  node.items.forEach((item, i) => {
    const p = itemPath(path, i);
    const map = asMap(item, p, issues);
    if (!map) return;
    const fields = new Fields(map, p, ENV_ITEM_FIELDS, ['name', 'value'], issues);
    const nameNode = fields.getRequired('name');
    const valueNode = fields.getRequired('value');
    const name = nameNode && asString(nameNode, fields.pathOf('name'), issues);
    const value = valueNode && asString(valueNode, fields.pathOf('value'), issues);
    const secretNode = fields.get('secret');
    const secret = (secretNode && asBoolean(secretNode, fields.pathOf('secret'), issues)) ?? false;
    if (name === undefined || nameNode === undefined) return;
    add(name, nameNode.pos, fields.pathOf('name'), value, valueNode ?? map, fields.pathOf('value'), secret);
  });
  return vars;
}
