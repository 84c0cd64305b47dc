import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { formatIssue, parseWorkflowFile } from '@skein/domain';
import { applyWorkflow } from '@skein/store';

export interface AppliedFile {
  readonly file: string;
  readonly workflows: { name: string; version: number; created: boolean }[];
  readonly errors: string[];
}

/** Workflow files in a directory (or the file itself), sorted: .yaml, .yml, .json. */
export function workflowFiles(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => path.join(target, f));
}

/** Validates and stores every workflow in the files; invalid files are reported, not fatal. */
export async function applyWorkflowFiles(pool: Pool, target: string): Promise<AppliedFile[]> {
  const results: AppliedFile[] = [];
  for (const file of workflowFiles(target)) {
    const parsed = parseWorkflowFile(readFileSync(file, 'utf8'), file);
    if (parsed.errors.length > 0) {
      results.push({ file, workflows: [], errors: parsed.errors.map(formatIssue) });
      continue;
    }
    const workflows = [];
    for (const w of parsed.workflows) {
      const applied = await applyWorkflow(pool, w.spec, w.digest);
      workflows.push({ name: w.spec.metadata.name, version: applied.version.version, created: applied.created });
    }
    results.push({ file, workflows, errors: [] });
  }
  return results;
}
