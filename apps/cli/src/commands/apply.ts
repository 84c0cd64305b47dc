import { formatIssue, parseWorkflowFile } from '@skein/domain';
import { ApplyPoolResponse, ApplyTemplateResponse, ApplyWorkflowResponse, ValidateWorkflowResponse } from '@skein/proto';
import { parse } from 'yaml';
import { CliError } from '../cli-io';
import type { CommandContext } from '../command-context';
import { json } from '../format';
import { createPoolClient, createTemplateClient, type PoolClient, type TemplateClient } from '../template-client';
import { readWorkflowFiles, splitDocuments } from '../workflow-files';
import { templatesOf } from './render';

/** A document's `kind` (an unparsable document has none: it goes to ApplyWorkflow, which reports it). */
function kindOf(source: string): unknown {
  try {
    const doc: unknown = parse(source);
    return typeof doc === 'object' && doc !== null ? (doc as { kind?: unknown }).kind : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a document is a `kind: TaskTemplate`. */
function isTemplateDocument(source: string): boolean {
  return kindOf(source) === 'TaskTemplate';
}

/**
 * `skein apply -f FILE|DIR`: sends every workflow document to ApplyWorkflow. An invalid file does not
 * stop the others; its issues are printed as `file:line:col: path: message` and the exit code is 1.
 */
export async function applyCommand(ctx: CommandContext, targets: readonly string[]): Promise<number> {
  const files = targets.flatMap(readWorkflowFiles);
  const results: unknown[] = [];
  let failed = false;
  // Pools and TaskTemplates first, from every file: the workflows applied after them are checked and
  // resolved against them.
  const documents = files.flatMap((file) => splitDocuments(file.source).map((source) => ({ file, source, template: isTemplateDocument(source), pool: kindOf(source) === 'Pool' })));
  let templateClient: TemplateClient | undefined;
  let poolClient: PoolClient | undefined;
  try {
    for (const { file, source } of documents.filter((d) => d.pool)) {
      try {
        poolClient ??= createPoolClient(ctx.client().connection);
        const res = await poolClient.applyPool({ source, fileName: file.name });
        results.push(ApplyPoolResponse.toJSON(res));
        if (ctx.output === 'table') ctx.out(`pool ${res.pool?.poolId ?? '?'}: ${res.created ? 'created' : 'applied'} (${res.pool?.slots ?? 0} slots)`);
      } catch (err) {
        if (!(err instanceof CliError) || err.reason !== 'WORKFLOW_INVALID') throw err;
        for (const line of err.lines) ctx.err(line);
        failed = true;
      }
    }
    for (const { file, source } of documents.filter((d) => d.template)) {
      try {
        templateClient ??= createTemplateClient(ctx.client().connection);
        const res = await templateClient.applyTemplate({ source, fileName: file.name });
        results.push(ApplyTemplateResponse.toJSON(res));
        if (ctx.output === 'table') {
          const name = res.template?.templateId ?? '?';
          const version = res.template?.currentVersion ?? 0;
          ctx.out(res.created ? `template ${name}: created version ${version}` : `template ${name}: unchanged (version ${version})`);
        }
      } catch (err) {
        if (!(err instanceof CliError) || err.reason !== 'WORKFLOW_INVALID') throw err;
        for (const line of err.lines) ctx.err(line);
        failed = true;
      }
    }
  } finally {
    templateClient?.close();
    poolClient?.close();
  }
  for (const file of files) {
    for (const source of splitDocuments(file.source).filter((s) => !isTemplateDocument(s) && kindOf(s) !== 'Pool')) {
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
  // A task may extend a template of any file given (stored ones are the server's: use `skein render`).
  const templates = templatesOf(files);
  for (const file of files) {
    const parsed = parseWorkflowFile(file.source, file.name, templates);
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
