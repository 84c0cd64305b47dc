/**
 * Parsing a workflow file: YAML or JSON (JSON is YAML), one or more `---`-separated documents,
 * each validated into a normalised WorkflowSpec. Never throws for bad input: every problem in
 * every document comes back as an issue with its file:line:column and field path.
 */
import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import { sha256OfCanonicalJson } from './canonical-json';
import { IssueList } from './fields';
import { compareIssues, type ValidationIssue } from './issues';
import { TASK_TEMPLATE_KIND, templateDigest, validateTemplateDocument, type TaskTemplateSpec, type TemplateLookup } from './task-template';
import { validateWorkflowDocument } from './validate-workflow';
import { POOL_KIND, validatePoolDocument, type PoolLookup, type PoolSpec } from './pool';
import type { WorkflowSpec } from './workflow';
import { documentTree, type Position, type TreeNode } from './yaml-tree';

/** The largest workflow file accepted: 1 MiB. */
export const MAX_WORKFLOW_FILE_BYTES = 1024 * 1024;

/** One valid workflow from a file. */
export interface ParsedWorkflow {
  /** The normalised spec: defaults applied, durations in ms, env as a list. */
  readonly spec: WorkflowSpec;
  /** sha256 (hex) of the canonical JSON of `spec`: equal specs have equal digests. */
  readonly digest: string;
  /** 0-based index of the document in the file. */
  readonly document: number;
}

/** One valid TaskTemplate from a file. */
export interface ParsedTemplate {
  readonly spec: TaskTemplateSpec;
  /** sha256 (hex) of the canonical JSON of `spec`. */
  readonly digest: string;
  /** 0-based index of the document in the file. */
  readonly document: number;
}

/** One valid Pool from a file. */
export interface ParsedPool {
  readonly spec: PoolSpec;
  /** 0-based index of the document in the file. */
  readonly document: number;
}

/** The valid workflows, task templates and pools of a file, and every issue found in it (in position order). */
export interface ParseResult {
  readonly workflows: ParsedWorkflow[];
  readonly templates: ParsedTemplate[];
  readonly pools: ParsedPool[];
  readonly errors: ValidationIssue[];
}

/** Options of {@link parseWorkflowFile}. */
export interface ParseOptions {
  /**
   * Templates from elsewhere (the server's stored ones), consulted after the file's own. A task
   * naming a template found in neither is an issue at its `template:` field.
   */
  readonly templates?: TemplateLookup;
  /** Names of those templates, for "did you mean" hints. */
  readonly templateNames?: () => readonly string[];
  /**
   * Pools from elsewhere (the server's), consulted after the file's own. When given, a task naming a
   * pool found in neither is an issue at its `pool:` field; when absent, pool names are not checked.
   */
  readonly pools?: PoolLookup;
  /** Names of those pools, for hints. */
  readonly poolNames?: () => readonly string[];
}

function documentKind(root: TreeNode): unknown {
  if (root.kind !== 'map') return undefined;
  const kind = root.entries.find((e) => e.key === 'kind')?.value;
  return kind?.kind === 'scalar' ? kind.value : undefined;
}

/** The digest of a normalised spec: lowercase hex sha256 of its canonical JSON. */
export function workflowDigest(spec: WorkflowSpec): string {
  return sha256OfCanonicalJson(spec);
}

// The yaml package's messages are terse; these read better next to a line number.
const YAML_MESSAGES: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'duplicate key: each field may appear once in a mapping',
  TAB_AS_INDENT: 'tabs are not allowed for indentation in YAML; use spaces',
};

function metadataNamePosition(root: TreeNode): Position {
  const metadata = root.kind === 'map' ? root.entries.find((e) => e.key === 'metadata')?.value : undefined;
  const name = metadata?.kind === 'map' ? metadata.entries.find((e) => e.key === 'name')?.value : undefined;
  return name?.pos ?? metadata?.pos ?? root.pos;
}

/**
 * Parses and validates a workflow file.
 *
 * @param source the file's text.
 * @param fileName the name to report issues against (`etl.yaml`).
 */
export function parseWorkflowFile(source: string, fileName: string, options: ParseOptions = {}): ParseResult {
  const issues = new IssueList(fileName);
  const size = Buffer.byteLength(source, 'utf8');
  if (size > MAX_WORKFLOW_FILE_BYTES) {
    issues.add({ line: 1, column: 1 }, '', `file is too large: ${size} bytes (the limit is ${MAX_WORKFLOW_FILE_BYTES} bytes, 1 MiB)`);
    return { workflows: [], templates: [], pools: [], errors: issues.issues };
  }

  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): Position => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line, column: col };
  };
  const yamlIssue = (e: YAMLError) => issues.add(at(e.pos[0]), '', YAML_MESSAGES[e.code] ?? e.message);

  const workflows: ParsedWorkflow[] = [];
  const templates: ParsedTemplate[] = [];
  const pools: ParsedPool[] = [];
  const poolIndex = new Map<string, number>();
  const names = new Map<string, number>();
  const templateIndex = new Map<string, number>();
  let nonEmpty = 0;
  // Templates first, so a task may extend a template defined anywhere in the same file.
  const workflowRoots: Array<{ root: TreeNode; index: number }> = [];
  documents.forEach((doc, index) => {
    doc.errors.forEach(yamlIssue);
    for (const warning of doc.warnings) {
      if (warning.code === 'TAG_RESOLVE_FAILED') issues.add(at(warning.pos[0]), '', `${warning.message}: custom YAML tags are not supported`);
    }
    const { root, problems } = documentTree(doc, lineCounter);
    if (root === undefined) return;
    nonEmpty++;
    // A document with YAML errors has a partial tree: validating it would only add noise.
    if (doc.errors.length > 0) return;
    for (const p of problems) issues.add(p.pos, '', p.message);
    if (problems.length > 0) return;

    if (documentKind(root) === TASK_TEMPLATE_KIND) {
      const template = validateTemplateDocument(root, issues);
      if (!template) return;
      const first = templateIndex.get(template.metadata.name);
      if (first !== undefined) {
        issues.add(metadataNamePosition(root), 'metadata.name', `template ${JSON.stringify(template.metadata.name)} is defined twice in this file (also in document ${first + 1})`);
        return;
      }
      templateIndex.set(template.metadata.name, index);
      templates.push({ spec: template, digest: templateDigest(template), document: index });
      return;
    }
    if (documentKind(root) === POOL_KIND) {
      const pool = validatePoolDocument(root, issues);
      if (!pool) return;
      const first = poolIndex.get(pool.metadata.name);
      if (first !== undefined) {
        issues.add(metadataNamePosition(root), 'metadata.name', `pool ${JSON.stringify(pool.metadata.name)} is defined twice in this file (also in document ${first + 1})`);
        return;
      }
      poolIndex.set(pool.metadata.name, index);
      pools.push({ spec: pool, document: index });
      return;
    }
    workflowRoots.push({ root, index });
  });
  const ownPools = new Map(pools.map((p) => [p.spec.metadata.name, p.spec]));
  const poolCheck = options.pools
    ? {
      lookup: (name: string) => ownPools.get(name) ?? options.pools?.(name),
      names: () => [...new Set([...ownPools.keys(), ...(options.poolNames?.() ?? [])])],
    }
    : undefined;
  const own = new Map(templates.map((t) => [t.spec.metadata.name, t.spec]));
  const lookup: TemplateLookup = (name) => own.get(name) ?? options.templates?.(name);
  const templateNames = () => [...own.keys(), ...(options.templateNames?.() ?? [])];
  for (const { root, index } of workflowRoots) {
    const spec = validateWorkflowDocument(root, issues, lookup, templateNames, poolCheck);
    if (!spec) continue;
    const first = names.get(spec.metadata.name);
    if (first !== undefined) {
      issues.add(metadataNamePosition(root), 'metadata.name', `workflow ${JSON.stringify(spec.metadata.name)} is defined twice in this file (also in document ${first + 1})`);
      continue;
    }
    names.set(spec.metadata.name, index);
    workflows.push({ spec, digest: workflowDigest(spec), document: index });
  }
  if (nonEmpty === 0 && issues.count === 0) issues.add({ line: 1, column: 1 }, '', 'no workflow in file: it is empty');
  return { workflows, templates, pools, errors: [...issues.issues].sort(compareIssues) };
}
