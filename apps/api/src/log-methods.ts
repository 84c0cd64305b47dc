import { status as GrpcStatus } from '@grpc/grpc-js';
import type { GetLogsRequest, GetLogsResponse, TailLogsRequest, TailLogsResponse } from '@skein/proto';
import { findTaskAttempt, listTaskRuns, type AttemptRecord } from '@skein/store';
import { resolveRun, type ApiContext } from './api-context';
import { ApiError, invalidArgument, notFound } from './errors';
import { toLogEntry } from './mappers';
import { checkTokenScope, decodePageToken, encodePageToken, LOG_PAGE, logCursor, pageSize } from './pagination';
import { parseTaskRunName, taskRunName } from './resource-names';

/** The LogService methods, transport-independent. */
export interface LogMethods {
  getLogs(request: GetLogsRequest): Promise<GetLogsResponse>;
  /**
   * Checks the request and resolves the attempt (errors are thrown here, before any line), then
   * returns the stream of responses: history, live lines, and a last response with `complete` set.
   * Iterating may throw RESOURCE_EXHAUSTED (the reader fell behind) or UNAVAILABLE. Aborting
   * `signal` ends it.
   */
  tailLogs(request: TailLogsRequest, options?: { signal?: AbortSignal }): Promise<AsyncIterable<TailLogsResponse>>;
}

/** The error of a tail whose reader fell behind, from the collector in process or over gRPC. */
function isSlowReaderFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code } = err as { code?: unknown };
  return code === 'LOG_TAIL_SLOW_READER' || ('metadata' in err && code === GrpcStatus.RESOURCE_EXHAUSTED);
}

/** RESOURCE_EXHAUSTED for a tail reader that fell behind; it may resume after the last line it got. */
export function tailTooSlow(lastSequence: number): ApiError {
  return new ApiError(GrpcStatus.RESOURCE_EXHAUSTED, 'LOG_TAIL_TOO_SLOW',
    `the client read the log tail too slowly to keep up; resume with after_sequence=${lastSequence}`,
    { metadata: { afterSequence: String(lastSequence) } });
}

function nonNegativeInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(field, `must be a non-negative integer, got ${value}`);
  return value;
}

export function createLogMethods(ctx: ApiContext): LogMethods {
  /** The attempt a request names (0: the latest); NOT_FOUND for an unknown task or attempt. */
  const findAttempt = async (scope: string, runId: string, task: string, number: number): Promise<AttemptRecord | undefined> => {
    const attempt = await findTaskAttempt(ctx.pool, runId, task, number);
    if (attempt) return attempt;
    const taskRuns = await listTaskRuns(ctx.pool, runId);
    if (!taskRuns.some((t) => t.task === task)) throw notFound('task', scope);
    if (number !== 0) throw notFound('attempt', `${scope}/attempts/${number}`, `task ${scope} has no attempt ${number}`);
    return undefined;
  };

  return {
    async tailLogs(request, options = {}) {
      const name = parseTaskRunName(request.parent, 'parent');
      const number = nonNegativeInteger(request.attempt, 'attempt');
      const after = nonNegativeInteger(request.afterSequence, 'after_sequence');
      const run = await resolveRun(ctx, name);
      const scope = taskRunName(run.workflowId, run.id, name.task);
      const attempt = await findAttempt(scope, run.id, name.task, number);
      // A task not tried yet has no log to follow yet: the caller waits for its first attempt.
      if (!attempt) throw notFound('attempt', `${scope}/attempts/0`, `task ${scope} has not started an attempt yet`);
      const reader = ctx.logs;
      if (!reader.tailLogs) throw new ApiError(GrpcStatus.UNIMPLEMENTED, 'UNIMPLEMENTED', 'this server cannot tail logs');
      const tail = reader.tailLogs(attempt.id, after, { signal: options.signal });
      return (async function* (): AsyncGenerator<TailLogsResponse> {
        let last = after;
        try {
          for await (const chunk of tail) {
            const lastLine = chunk.lines[chunk.lines.length - 1];
            if (lastLine) last = lastLine.sequence;
            yield { entries: chunk.lines.map((line) => toLogEntry(attempt.number, line)), attempt: attempt.number, complete: chunk.end?.complete ?? false };
            if (chunk.end) return;
          }
        } catch (err) {
          if (isSlowReaderFailure(err)) throw tailTooSlow(last);
          throw err;
        }
      })();
    },

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
