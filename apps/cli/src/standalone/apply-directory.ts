import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { formatIssue, parseWorkflowFile, type PoolSpec, type TaskTemplateSpec } from '@skein/domain';
import { applyPool, applyTaskTemplate, applyWorkflow, listPools, listTaskTemplates, poolSpecOf } from '@skein/store';

export interface AppliedFile {
  readonly file: string;
  readonly workflows: { name: string; version: number; created: boolean }[];
  /** The TaskTemplates the file defines, stored before any workflow. */
  readonly templates?: { name: string; version: number; created: boolean }[];
  /** The Pools the file defines, stored before any workflow. */
  readonly pools?: { name: string; slots: number; created: boolean }[];
  readonly errors: string[];
}

/** Workflow files in a directory (or the file itself), sorted: .yaml, .yml, .json. */
export function workflowFiles(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => path.join(target, f));
}

/**
 * Validates and stores every workflow in the files; invalid files are reported, not fatal. The
 * TaskTemplates and Pools of the files (and of a `templates/` directory beside them) are stored first, so
 * the workflows' `template:` and `pool:` resolve against them and the ones stored before.
 */
export async function applyWorkflowFiles(pool: Pool, target: string): Promise<AppliedFile[]> {
  const results: AppliedFile[] = [];
  const templateDir = path.join(target, 'templates');
  const templateFiles = statSync(target).isDirectory() && existsSync(templateDir) && statSync(templateDir).isDirectory() ? workflowFiles(templateDir) : [];
  const files = workflowFiles(target);
  for (const file of [...templateFiles, ...files]) {
    const templates = parseWorkflowFile(readFileSync(file, 'utf8'), file).templates;
    const applied = [];
    for (const t of templates) {
      const result = await applyTaskTemplate(pool, t.spec, t.digest);
      applied.push({ name: t.spec.metadata.name, version: result.template.currentVersion, created: result.created });
    }
    if (templateFiles.includes(file)) results.push({ file, workflows: [], templates: applied, errors: [] });
  }
  const poolsApplied = new Map<string, { name: string; slots: number; created: boolean }[]>();
  for (const file of files) {
    for (const p of parseWorkflowFile(readFileSync(file, 'utf8'), file).pools) {
      const result = await applyPool(pool, p.spec);
      poolsApplied.set(file, [...(poolsApplied.get(file) ?? []), { name: p.spec.metadata.name, slots: result.pool.slots, created: result.created }]);
    }
  }
  const stored = new Map<string, TaskTemplateSpec>((await listTaskTemplates(pool, { limit: 10_000 })).map((t) => [t.name, t.spec]));
  const storedPools = new Map<string, PoolSpec>((await listPools(pool, { limit: 10_000 })).map((p) => [p.name, poolSpecOf(p)]));
  const options = {
    templates: (name: string) => stored.get(name), templateNames: () => [...stored.keys()],
    pools: (name: string) => storedPools.get(name), poolNames: () => [...storedPools.keys()],
  };
  for (const file of files) {
    const parsed = parseWorkflowFile(readFileSync(file, 'utf8'), file, options);
    if (parsed.errors.length > 0) {
      results.push({ file, workflows: [], errors: parsed.errors.map(formatIssue) });
      continue;
    }
    const workflows = [];
    for (const w of parsed.workflows) {
      const applied = await applyWorkflow(pool, w.spec, w.digest);
      workflows.push({ name: w.spec.metadata.name, version: applied.version.version, created: applied.created });
    }
    const filePools = poolsApplied.get(file);
    results.push({ file, workflows, errors: [], ...(filePools && { pools: filePools }) });
  }
  return results;
}
