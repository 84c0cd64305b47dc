import { status as GrpcStatus } from '@grpc/grpc-js';
import { isTerminalRunState } from '@skein/domain';
import { TaskRun, type Run, type WatchRunRequest, type WatchRunResponse } from '@skein/proto';
import { getRun, listRunAttempts, listTaskRuns, type AttemptRecord, type RunRecord } from '@skein/store';
import { resolveRun, type ApiContext } from './api-context';
import { ApiError, notFound } from './errors';
import { toRun, toTaskRun } from './mappers';
import { parseRunName, runName } from './resource-names';
import type { RunWatchHub } from './run-watch-hub';

/** A run's task runs in workflow order, each with its attempts and upstream tasks. */
export async function loadTaskRuns(ctx: ApiContext, run: RunRecord): Promise<TaskRun[]> {
  const [taskRuns, attempts, spec] = await Promise.all([
    listTaskRuns(ctx.pool, run.id),
    listRunAttempts(ctx.pool, run.id),
    ctx.workflowVersionSpec(run.workflowId, run.workflowVersion),
  ]);
  const byTask = new Map<string, AttemptRecord[]>();
  for (const attempt of attempts) byTask.set(attempt.task, [...(byTask.get(attempt.task) ?? []), attempt]);
  return taskRuns.map((t) => toTaskRun(run.workflowId, t, byTask.get(t.task) ?? [], spec));
}

/** The WatchRun method, transport-independent. */
export interface WatchMethods {
  /**
   * Checks the request and finds the run (errors are thrown here, before any message), then returns
   * the stream: a snapshot, then the changes, ending after the message in which the run has ended.
   * Aborting `signal` ends it; iterating throws UNAVAILABLE when the api stops or the database fails.
   */
  watchRun(request: WatchRunRequest, options?: { signal?: AbortSignal }): Promise<AsyncIterable<WatchRunResponse>>;
}

/** RESOURCE_EXHAUSTED for a WatchRun client that stopped reading; calling again starts from a snapshot. */
export function watchTooSlow(): ApiError {
  return new ApiError(GrpcStatus.RESOURCE_EXHAUSTED, 'WATCH_TOO_SLOW',
    'the client read the WatchRun stream too slowly; call WatchRun again to resume from a fresh snapshot');
}

const encoded = (taskRun: TaskRun) => Buffer.from(TaskRun.encode(taskRun).finish()).toString('base64');

export function createWatchMethods(ctx: ApiContext, hub: RunWatchHub): WatchMethods {
  return {
    async watchRun(request, options = {}) {
      const first = await resolveRun(ctx, parseRunName(request.name, 'name'));
      const signal = options.signal ?? new AbortController().signal;
      const name = runName(first.workflowId, first.id);
      return (async function* (): AsyncGenerator<WatchRunResponse> {
        // Digest first, then read: a change between the two is seen again, never missed.
        let known = await hub.fingerprint(first.id);
        let sentRun: string | undefined;
        const sentTasks = new Map<string, string>();
        for (let initial = true; !signal.aborted; initial = false) {
          if (!initial) {
            const next = await hub.changed(first.id, known ?? '', signal);
            if (signal.aborted) return;
            if (next === undefined) throw notFound('run', name, `run ${name} was deleted while being watched`);
            known = next;
          }
          const record = await getRun(ctx.pool, first.id);
          if (!record) throw notFound('run', name, `run ${name} was deleted while being watched`);
          const run: Run = toRun(record);
          const changed = (await loadTaskRuns(ctx, record)).filter((t) => {
            const bytes = encoded(t);
            if (sentTasks.get(t.name) === bytes) return false;
            sentTasks.set(t.name, bytes);
            return true;
          });
          const runBytes = JSON.stringify(run);
          if (initial || changed.length > 0 || runBytes !== sentRun) {
            sentRun = runBytes;
            yield { run, taskRuns: changed };
          }
          if (isTerminalRunState(record.state)) return;
        }
      })();
    },
  };
}
