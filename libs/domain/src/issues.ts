/** One problem found in a workflow file, with where it is. */
export interface ValidationIssue {
  /** The file name as given to the parser. */
  readonly file: string;
  /** 1-based line of the offending node. */
  readonly line: number;
  /** 1-based column of the offending node. */
  readonly column: number;
  /** Field path within the document, such as `spec.tasks[2].dependsOn[0]`; `''` for the whole document. */
  readonly path: string;
  readonly message: string;
}

/**
 * One line per issue, in the `file:line:column: path: message` form editors and CI annotate:
 * `etl.yaml:12:7: spec.tasks[2].dependsOn[0]: unknown task "extrct" (did you mean "extract"?)`.
 */
export function formatIssue(issue: ValidationIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** Issues in reading order: by file, line, column. */
export function compareIssues(a: ValidationIssue, b: ValidationIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}
