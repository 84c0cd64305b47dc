import { status as GrpcStatus } from '@grpc/grpc-js';
import type { RetryRunRequest, RetryRunResponse } from '@skein/proto';
import { getRun } from '@skein/store';
import { resolveRun, type ApiContext } from './api-context';
import { ApiError } from './errors';
import { checkLength, MAX_NAME_LENGTH } from './limits';
import { toRun } from './mappers';
import { parseRunName } from './resource-names';

/** RetryRun, transport-independent. */
export interface RetryMethods {
  retryRun(request: RetryRunRequest): Promise<RetryRunResponse>;
}

/** gRPC FAILED_PRECONDITION, as the scheduler reports a run that has not ended. */
const FAILED_PRECONDITION = 9;

export function createRetryMethods(ctx: ApiContext): RetryMethods {
  return {
    async retryRun(request) {
      const found = await resolveRun(ctx, parseRunName(request.name, 'name'));
      checkLength(request.task, 'task', MAX_NAME_LENGTH);
      let tasks: string[];
      try {
        tasks = (await ctx.runs.retryRun(found.id, request.task || undefined)).tasks;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const message = err instanceof Error ? err.message.replace(/^\d+ [A-Z_]+: /, '') : String(err);
        if (code === FAILED_PRECONDITION || (err as Error).name === 'RunNotEndedError') {
          throw new ApiError(GrpcStatus.FAILED_PRECONDITION, 'RUN_NOT_ENDED', message);
        }
        if (code === GrpcStatus.NOT_FOUND || (err as Error).name === 'NotFoundError') {
          throw new ApiError(GrpcStatus.NOT_FOUND, 'TASK_NOT_FOUND', message, { fieldViolations: [{ field: 'task', description: message }] });
        }
        throw err;
      }
      const run = await getRun(ctx.pool, found.id);
      if (!run) throw new Error(`run ${found.id} vanished`);
      ctx.logger.info({ runId: run.id, tasks }, 'run retried');
      return { run: toRun(run), tasks };
    },
  };
}
