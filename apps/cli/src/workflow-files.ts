import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CliError } from './cli-io';

/** File extensions `-f DIR` picks up. */
export const WORKFLOW_FILE_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

export interface WorkflowFile {
  /** The path as shown in messages (as the user gave it, joined with the entry for a directory). */
  readonly name: string;
  readonly source: string;
}

/** Every workflow file under `dir`, in its subdirectories too; hidden entries (`.git`, ...) are skipped. */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(full));
    else if (entry.isFile() && WORKFLOW_FILE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) found.push(full);
  }
  return found;
}

/**
 * The workflow files a `-f` argument names: the file itself, or every .yaml/.yml/.json under a
 * directory, its subdirectories included (`examples/` with its `templates/`), sorted by path. What
 * the files hold decides the order they are applied in (TaskTemplates first), not where they are.
 */
export function readWorkflowFiles(target: string): WorkflowFile[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(target).isDirectory();
  } catch (err) {
    throw new CliError(`cannot read ${target}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(err)}`);
  }
  const names = isDirectory ? filesUnder(target).sort() : [target];
  if (isDirectory && names.length === 0) throw new CliError(`${target} has no .yaml, .yml or .json files (its subdirectories included)`);
  return names.map((name) => ({ name, source: readFileSync(name, 'utf8') }));
}

/**
 * The documents of a multi-document file, each as a source of its own that keeps its line and
 * column numbers (padded with the newlines and spaces before it), since ApplyWorkflow takes one
 * document per request and its errors must point into the user's file. A file with one document,
 * or that does not parse, is returned whole: the server reports its problems.
 */
export function splitDocuments(source: string): string[] {
  const parsed = parseAllDocuments(source);
  if (!Array.isArray(parsed)) return [source];
  if (parsed.some((d) => d.errors.length > 0)) return [source];
  const documents = parsed.filter((d) => d.contents !== null && d.range);
  if (documents.length <= 1) return [source];
  return documents.map((d) => {
    const [start, , end] = d.range;
    const before = source.slice(0, start);
    const line = before.split('\n').length - 1;
    const column = start - (before.lastIndexOf('\n') + 1);
    return '\n'.repeat(line) + ' '.repeat(column) + source.slice(start, end);
  });
}
