import { CliError } from './cli-io';

/**
 * What users type for resources → API resource names. A run is the bare id the CLI printed or a full
 * `workflows/{w}/runs/{r}` name; a workflow is its id or `workflows/{w}`.
 */

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const RUN_NAME = /^workflows\/([^/]+)\/runs\/([^/]+)$/;

/** The resource name of a RUN argument. */
export function runNameOf(value: string): string {
  if (SEGMENT.test(value)) return `workflows/-/runs/${value}`;
  const match = RUN_NAME.exec(value);
  if (match && (match[1] === '-' || SEGMENT.test(match[1] ?? '')) && SEGMENT.test(match[2] ?? '')) return value;
  throw new CliError(`${JSON.stringify(value)} is not a run: give the run id (as \`skein trigger\` printed it) or workflows/WORKFLOW/runs/RUN`);
}

/** The resource name of a WORKFLOW argument. */
export function workflowNameOf(value: string): string {
  const id = value.startsWith('workflows/') ? value.slice('workflows/'.length) : value;
  if (!SEGMENT.test(id)) throw new CliError(`${JSON.stringify(value)} is not a workflow name`);
  return `workflows/${id}`;
}
