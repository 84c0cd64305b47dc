/**
 * Reading typed fields out of a located tree while collecting issues: every helper reports what is
 * wrong at the node's position and returns undefined, so validation goes on and all issues are
 * found in one pass.
 */
import type { ValidationIssue } from './issues';
import { didYouMean } from './suggest';
import type { MapEntry, MapNode, Position, ScalarNode, SeqNode, TreeNode } from './yaml-tree';

/** Collects the issues of one file. */
export class IssueList {
  readonly issues: ValidationIssue[] = [];
  private readonly seen = new Set<string>();

  constructor(readonly file: string) {}

  /** Records an issue; an identical one (same place, path and message) is recorded once. */
  add(pos: Position, path: string, message: string): void {
    const key = `${pos.line}:${pos.column}:${path}:${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.issues.push({ file: this.file, line: pos.line, column: pos.column, path, message });
  }

  get count(): number {
    return this.issues.length;
  }
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `spec` + `tasks` → `spec.tasks`; keys that are not plain names are quoted: `labels["app.io/x"]`. */
export function childPath(parent: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** `spec.tasks` + 2 → `spec.tasks[2]`. */
export function itemPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** How a node reads in a message: "a list", "the string \"x\"", "the integer 5", "null". */
export function describeNode(node: TreeNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  const v = node.value;
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return `${Number.isInteger(v) ? 'the integer' : 'the number'} ${String(v)}`;
  return `the boolean ${String(v)}`;
}

/** True for an explicit null (`field:` or `field: ~`), which counts as leaving the field out. */
export function isNull(node: TreeNode | undefined): boolean {
  return node === undefined || (node.kind === 'scalar' && node.value === null);
}

/** The fields of a mapping by key, after reporting unknown and missing ones. */
export class Fields {
  private readonly byKey = new Map<string, MapEntry>();

  constructor(
    readonly node: MapNode,
    readonly path: string,
    known: readonly string[],
    required: readonly string[],
    issues: IssueList,
  ) {
    for (const entry of node.entries) {
      if (!known.includes(entry.key)) {
        issues.add(entry.keyPos, childPath(path, entry.key), `unknown field ${JSON.stringify(entry.key)}${didYouMean(entry.key, known)}`);
        continue;
      }
      this.byKey.set(entry.key, entry);
    }
    for (const key of required) {
      if (!this.byKey.has(key)) issues.add(node.pos, childPath(path, key), `missing required field ${JSON.stringify(key)}`);
    }
  }

  /** The value of a field; undefined if absent or null. */
  get(key: string): TreeNode | undefined {
    const value = this.byKey.get(key)?.value;
    return isNull(value) ? undefined : value;
  }

  /** The value of a required field, null included (so that its type error is reported). */
  getRequired(key: string): TreeNode | undefined {
    return this.byKey.get(key)?.value;
  }

  /** The field path of a key. */
  pathOf(key: string): string {
    return childPath(this.path, key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
}

/** The node as a mapping, or an issue. */
export function asMap(node: TreeNode, path: string, issues: IssueList): MapNode | undefined {
  if (node.kind === 'map') return node;
  issues.add(node.pos, path, `must be a mapping, got ${describeNode(node)}`);
  return undefined;
}

/** The node as a list, or an issue; `hint` is appended to the message. */
export function asSeq(node: TreeNode, path: string, issues: IssueList, hint = ''): SeqNode | undefined {
  if (node.kind === 'seq') return node;
  issues.add(node.pos, path, `must be a list, got ${describeNode(node)}${hint}`);
  return undefined;
}

function quoteHint(node: ScalarNode): string {
  return typeof node.value === 'number' || typeof node.value === 'boolean' ? ` (quote it: "${String(node.value)}")` : '';
}

/** The node as a string, or an issue (numbers and booleans are not strings: YAML users are told to quote them). */
export function asString(node: TreeNode, path: string, issues: IssueList, options: { nonEmpty?: boolean } = {}): string | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    if (options.nonEmpty && node.value.trim() === '') {
      issues.add(node.pos, path, 'must not be empty');
      return undefined;
    }
    return node.value;
  }
  issues.add(node.pos, path, `must be a string, got ${describeNode(node)}${node.kind === 'scalar' ? quoteHint(node) : ''}`);
  return undefined;
}

/** The node as a boolean, or an issue. */
export function asBoolean(node: TreeNode, path: string, issues: IssueList): boolean | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
  issues.add(node.pos, path, `must be true or false, got ${describeNode(node)}`);
  return undefined;
}

/** The node as an integer in [min, max], or an issue. */
export function asInteger(node: TreeNode, path: string, issues: IssueList, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'number' && Number.isInteger(node.value)) {
    if (node.value >= min && node.value <= max) return node.value;
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    issues.add(node.pos, path, `must be ${range}, got ${node.value}`);
    return undefined;
  }
  issues.add(node.pos, path, `must be an integer, got ${describeNode(node)}`);
  return undefined;
}
