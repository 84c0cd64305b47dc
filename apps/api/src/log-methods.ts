import type { GetLogsRequest, GetLogsResponse } from '@skein/proto';
import { findTaskAttempt, listTaskRuns } from '@skein/store';
import { resolveRun, type ApiContext } from './api-context';
import { invalidArgument, notFound } from './errors';
import { toLogEntry } from './mappers';
import { checkTokenScope, decodePageToken, encodePageToken, LOG_PAGE, logCursor, pageSize } from './pagination';
import { parseTaskRunName, taskRunName } from './resource-names';

/** The LogService methods, transport-independent. */
export interface LogMethods {
  getLogs(request: GetLogsRequest): Promise<GetLogsResponse>;
}

function nonNegativeInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(field, `must be a non-negative integer, got ${value}`);
  return value;
}

export function createLogMethods(ctx: ApiContext): LogMethods {
  return {
    async getLogs(request) {
      const name = parseTaskRunName(request.parent, 'parent');
      const limit = pageSize(request.pageSize, LOG_PAGE);
      const cursor = decodePageToken(request.pageToken, logCursor);
      const run = await resolveRun(ctx, name);
      const scope = taskRunName(run.workflowId, run.id, name.task);
      if (cursor) checkTokenScope(cursor.parent, scope);
      // A page token pins the attempt its first page resolved, so "latest" cannot move between pages.
      const number = cursor?.attempt ?? nonNegativeInteger(request.attempt, 'attempt');
      const after = cursor?.after ?? nonNegativeInteger(request.afterSequence, 'after_sequence');

      const attempt = await findTaskAttempt(ctx.pool, run.id, name.task, number);
      if (!attempt) {
        const taskRuns = await listTaskRuns(ctx.pool, run.id);
        if (!taskRuns.some((t) => t.task === name.task)) throw notFound('task', scope);
        if (number !== 0) throw notFound('attempt', `${scope}/attempts/${number}`, `task ${scope} has no attempt ${number}`);
        // The task has not been tried yet (pending, or skipped): there is no log, and not an error.
        return { entries: [], nextPageToken: '', attempt: 0, complete: false };
      }

      // One extra line says whether another page exists, so the last page carries no token.
      const page = await ctx.logs.readLogs(attempt.id, after, limit + 1);
      const lines = page.lines.slice(0, limit);
      const last = lines[lines.length - 1];
      return {
        entries: lines.map((line) => toLogEntry(attempt.number, line)),
        nextPageToken: page.lines.length > limit && last
          ? encodePageToken({ k: 'logs', parent: scope, attempt: attempt.number, after: last.sequence })
          : '',
        attempt: attempt.number,
        complete: page.complete,
      };
    },
  };
}
