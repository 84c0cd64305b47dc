import { status as GrpcStatus } from '@grpc/grpc-js';
import type {
  DeleteWorkflowRequest, DeleteWorkflowResponse, ListWorkflowVersionsRequest, ListWorkflowVersionsResponse,
} from '@skein/proto';
import { countUnendedRuns, deleteWorkflowAndRuns, getWorkflow, listWorkflowVersionsPage, lockWorkflowRow, withTransaction } from '@skein/store';
import { z } from 'zod';
import type { ApiContext } from './api-context';
import { ApiError, notFound } from './errors';
import { toWorkflowVersion } from './mappers';
import { checkTokenScope, decodePageToken, encodePageToken, LIST_PAGE, pageSize } from './pagination';
import { parseWorkflowName, workflowName } from './resource-names';

/** The WorkflowService methods that list versions and delete workflows, transport-independent. */
export interface WorkflowAdminMethods {
  listWorkflowVersions(request: ListWorkflowVersionsRequest): Promise<ListWorkflowVersionsResponse>;
  deleteWorkflow(request: DeleteWorkflowRequest): Promise<DeleteWorkflowResponse>;
}

/** Cursor of ListWorkflowVersions: versions are listed newest first. */
const versionCursor = z.object({ k: z.literal('versions'), parent: z.string(), before: z.number().int().positive() }).strict();

/** PostgreSQL's foreign_key_violation: a run was created between the check and the delete. */
const FOREIGN_KEY_VIOLATION = '23503';

function activeRuns(name: string, count: number): ApiError {
  return new ApiError(GrpcStatus.FAILED_PRECONDITION, 'WORKFLOW_HAS_ACTIVE_RUNS',
    `workflow ${name} has ${count} queued or running run(s): cancel them (skein cancel RUN) or wait for them to end, then delete it`,
    { metadata: { resource: name, activeRuns: String(count) } });
}

export function createWorkflowAdminMethods(ctx: ApiContext): WorkflowAdminMethods {
  return {
    async listWorkflowVersions(request) {
      const { workflowId } = parseWorkflowName(request.parent, 'parent');
      const limit = pageSize(request.pageSize, LIST_PAGE);
      const cursor = decodePageToken(request.pageToken, versionCursor);
      if (cursor) checkTokenScope(cursor.parent, workflowId);
      if (!cursor && !(await getWorkflow(ctx.pool, workflowId))) throw notFound('workflow', request.parent);
      const rows = await listWorkflowVersionsPage(ctx.pool, workflowId, limit + 1, cursor?.before);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        versions: page.map(toWorkflowVersion),
        nextPageToken: rows.length > limit && last ? encodePageToken({ k: 'versions', parent: workflowId, before: last.version }) : '',
      };
    },

    async deleteWorkflow(request) {
      const { workflowId } = parseWorkflowName(request.name, 'name');
      const name = workflowName(workflowId);
      try {
        await withTransaction(ctx.pool, async (client) => {
          // The row lock serialises with ApplyWorkflow; a run created concurrently by the scheduler
          // makes the delete fail on its foreign key instead (below).
          if (!(await lockWorkflowRow(client, workflowId))) throw notFound('workflow', name);
          const active = await countUnendedRuns(client, workflowId);
          if (active > 0) throw activeRuns(name, active);
          await deleteWorkflowAndRuns(client, workflowId);
        });
      } catch (err) {
        if ((err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) throw activeRuns(name, 1);
        throw err;
      }
      ctx.logger.info({ workflow: workflowId }, 'workflow deleted');
      return {};
    },
  };
}
