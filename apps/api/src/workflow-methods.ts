import { createHash } from 'node:crypto';
import { parseWorkflowFile, parseWorkflowFilter, type ParseOptions } from '@skein/domain';
import {
  type ApplyWorkflowRequest, type ApplyWorkflowResponse, type GetWorkflowRequest, type GetWorkflowResponse,
  type ListWorkflowsRequest, type ListWorkflowsResponse, type ValidateWorkflowRequest, type ValidateWorkflowResponse,
  type PauseWorkflowRequest, type PauseWorkflowResponse, type ResumeWorkflowRequest, type ResumeWorkflowResponse,
} from '@skein/proto';
import { applyWorkflow, getWorkflow, listWorkflows, setWorkflowPaused } from '@skein/store';
import type { ApiContext } from './api-context';
import { fileInvalid, invalidArgument, notFound } from './errors';
import { toWorkflow, toWorkflowVersion } from './mappers';
import { decodePageToken, encodePageToken, LIST_PAGE, pageSize, workflowCursor } from './pagination';
import { checkLength, MAX_FILE_NAME_LENGTH } from './limits';
import { parseWorkflowName } from './resource-names';
import { storedTemplates } from './template-methods';
import { storedPools } from './pool-methods';

/** Largest workflow file accepted, in UTF-8 bytes. */
export const MAX_WORKFLOW_SOURCE_BYTES = 1024 * 1024;

/** The file name used in error locations when the request names none. */
const DEFAULT_FILE_NAME = 'workflow.yaml';

/** The WorkflowService methods, transport-independent. */
export interface WorkflowMethods {
  applyWorkflow(request: ApplyWorkflowRequest): Promise<ApplyWorkflowResponse>;
  validateWorkflow(request: ValidateWorkflowRequest): Promise<ValidateWorkflowResponse>;
  getWorkflow(request: GetWorkflowRequest): Promise<GetWorkflowResponse>;
  listWorkflows(request: ListWorkflowsRequest): Promise<ListWorkflowsResponse>;
  pauseWorkflow(request: PauseWorkflowRequest): Promise<PauseWorkflowResponse>;
  resumeWorkflow(request: ResumeWorkflowRequest): Promise<ResumeWorkflowResponse>;
}

/**
 * Every issue becomes one BadRequest field violation; the message lists them all, one per line.
 * `field`: the request field that held the document (its issues' paths are relative to it).
 */

/**
 * Parses and validates one request's workflow file: exactly one valid Workflow document.
 * `field`: the request field that holds it, named in errors (`source`, or `workflow.spec` for a document
 * sent as a Struct).
 */
export function parseOne(source: string, requestFileName: string, templates: ParseOptions, field = 'source') {
  if (Buffer.byteLength(source, 'utf8') > MAX_WORKFLOW_SOURCE_BYTES) {
    throw invalidArgument(field, `is larger than ${MAX_WORKFLOW_SOURCE_BYTES} bytes; split the file`);
  }
  checkLength(requestFileName, 'file_name', MAX_FILE_NAME_LENGTH);
  const fileName = requestFileName || DEFAULT_FILE_NAME;
  if (source.trim() === '') {
    throw fileInvalid([{ file: fileName, line: 1, column: 1, path: '', message: 'the file is empty: expected one `kind: Workflow` document' }], 'WORKFLOW_INVALID', field);
  }
  // `template:` resolves at apply time (the file's own templates, then stored ones): the stored
  // version holds the resolved tasks, so a template changed later never changes it.
  const parsed = parseWorkflowFile(source, fileName, templates);
  if (parsed.errors.length > 0) throw fileInvalid(parsed.errors, 'WORKFLOW_INVALID', field);
  const [first, ...rest] = parsed.workflows;
  if (!first || rest.length > 0) {
    throw fileInvalid([{
      file: fileName, line: 1, column: 1, path: '',
      message: `expected exactly one Workflow document per request, found ${parsed.workflows.length}; apply each separately`,
    }], 'WORKFLOW_INVALID', field);
  }
  return first;
}

/** What a workflow file is checked against on the server: the stored templates and pools. */
export async function storedObjects(db: ApiContext['pool']): Promise<ParseOptions> {
  const [templates, pools] = await Promise.all([storedTemplates(db), storedPools(db)]);
  return { ...templates, ...pools };
}

export function createWorkflowMethods(ctx: ApiContext): WorkflowMethods {
  /** Pausing stops the schedule only: runs already created go on, and manual triggers still work. */
  async function setPaused(name: string, paused: boolean) {
    const { workflowId } = parseWorkflowName(name, 'name');
    if (!(await setWorkflowPaused(ctx.pool, workflowId, paused))) throw notFound('workflow', name);
    const workflow = await getWorkflow(ctx.pool, workflowId);
    if (!workflow) throw notFound('workflow', name);
    ctx.logger.info({ workflow: workflowId, paused }, paused ? 'workflow paused' : 'workflow resumed');
    return toWorkflow(workflow);
  }

  return {
    async applyWorkflow(request) {
      const { spec, digest } = parseOne(request.source, request.fileName, await storedObjects(ctx.pool));
      const result = await applyWorkflow(ctx.pool, spec, digest);
      ctx.logger.info({ workflow: spec.metadata.name, version: result.version.version, created: result.created }, 'workflow applied');
      return { workflow: toWorkflow(result.workflow), version: toWorkflowVersion(result.version), created: result.created };
    },

    async validateWorkflow(request) {
      const { spec } = parseOne(request.source, request.fileName, await storedObjects(ctx.pool));
      return { workflowId: spec.metadata.name, taskCount: spec.spec.tasks.length };
    },

    async pauseWorkflow(request) {
      return { workflow: await setPaused(request.name, true) };
    },

    async resumeWorkflow(request) {
      return { workflow: await setPaused(request.name, false) };
    },

    async getWorkflow(request) {
      const { workflowId } = parseWorkflowName(request.name, 'name');
      const workflow = await getWorkflow(ctx.pool, workflowId);
      if (!workflow) throw notFound('workflow', request.name);
      return { workflow: toWorkflow(workflow) };
    },

    async listWorkflows(request) {
      const limit = pageSize(request.pageSize, LIST_PAGE);
      const cursor = decodePageToken(request.pageToken, workflowCursor);
      const parsed = parseWorkflowFilter(request.filter);
      if ('problem' in parsed) throw invalidArgument('filter', parsed.problem);
      // A token carries a digest of its filter: paging on with another filter would skip or repeat rows.
      const filterDigest = request.filter.trim() === '' ? undefined : createHash('sha256').update(request.filter).digest('base64url').slice(0, 22);
      if (cursor && cursor.f !== filterDigest) throw invalidArgument('page_token', 'was issued for another filter: send the same filter, or no token to start again');
      // One extra row says whether another page exists, so the last page carries no token.
      const rows = await listWorkflows(ctx.pool, { limit: limit + 1, afterId: cursor?.after, filter: parsed.terms });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        workflows: page.map(toWorkflow),
        nextPageToken: rows.length > limit && last ? encodePageToken({ k: 'workflows', after: last.id, ...(filterDigest && { f: filterDigest }) }) : '',
      };
    },
  };
}
