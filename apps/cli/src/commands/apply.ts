import { formatIssue, parseWorkflowFile } from '@skein/domain';
import { ApplyWorkflowResponse, ValidateWorkflowResponse } from '@skein/proto';
import { CliError } from '../cli-io';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { readWorkflowFiles, splitDocuments } from '../workflow-files';

/**
 * `skein apply -f FILE|DIR`: sends every workflow document to ApplyWorkflow. An invalid file does not
 * stop the others; its issues are printed as `file:line:col: path: message` and the exit code is 1.
 */
export async function applyCommand(ctx: CommandContext, targets: readonly string[]): Promise<number> {
  const files = targets.flatMap(readWorkflowFiles);
  const results: unknown[] = [];
  let failed = false;
  for (const file of files) {
    for (const source of splitDocuments(file.source)) {
      try {
        const res = await ctx.client().applyWorkflow({ source, fileName: file.name });
        results.push(ApplyWorkflowResponse.toJSON(res));
        if (ctx.output === 'table') {
          const name = res.workflow?.workflowId ?? '?';
          const version = res.version?.version ?? 0;
          ctx.out(res.created ? `workflow ${name}: created version ${version}` : `workflow ${name}: unchanged (version ${version})`);
        }
      } catch (err) {
        // Only an invalid file is reported and skipped; anything else (no server, ...) stops here.
        if (!(err instanceof CliError) || err.reason !== 'WORKFLOW_INVALID') throw err;
        for (const line of err.lines) ctx.err(line);
        failed = true;
      }
    }
  }
  if (ctx.output === 'json') ctx.out(json(results));
  return failed ? 1 : 0;
}

/** `skein validate -f FILE|DIR`: checks workflow files locally, without a server. */
export function validateCommand(ctx: CommandContext, targets: readonly string[]): number {
  const files = targets.flatMap(readWorkflowFiles);
  const results: unknown[] = [];
  let failed = false;
  for (const file of files) {
    const parsed = parseWorkflowFile(file.source, file.name);
    for (const issue of parsed.errors) ctx.err(formatIssue(issue));
    failed ||= parsed.errors.length > 0;
    for (const { spec } of parsed.workflows) {
      results.push(ValidateWorkflowResponse.toJSON({ workflowId: spec.metadata.name, taskCount: spec.spec.tasks.length }));
      if (ctx.output === 'table' && parsed.errors.length === 0) {
        ctx.out(`${file.name}: workflow ${spec.metadata.name} is valid (${spec.spec.tasks.length} ${spec.spec.tasks.length === 1 ? 'task' : 'tasks'})`);
      }
    }
  }
  if (ctx.output === 'json') ctx.out(json(results));
  return failed ? 1 : 0;
}
