import { status as GrpcStatus } from '@grpc/grpc-js';
import { intervalsBetween, resolveParams, RUN_STATES, type RunState as DomainRunState } from '@skein/domain';
import type {
  BackfillRunsRequest, BackfillRunsResponse, CancelRunRequest, CancelRunResponse, GetRunRequest, GetRunResponse, ListRunsRequest, ListRunsResponse, ListTaskRunsRequest, ListTaskRunsResponse,
  TriggerRunRequest, TriggerRunResponse, GetTaskRunRequest, GetTaskRunResponse,
} from '@skein/proto';
import { RunState } from '@skein/proto';
import { type AttemptRecord, findRequestRun, getRun, getWorkflow, listRunAttempts, listRunsFiltered, listTaskRuns, lockRequestId, recordRequestRun, withTransaction } from '@skein/store';
import { loadTaskRuns } from './run-watch';
import { resolveRun, type ApiContext, type CallContext } from './api-context';
import { ApiError, invalidArgument, notFound } from './errors';
import { checkParamsSize, checkTimestamp } from './limits';
import { toRun, toTaskRun } from './mappers';
import { checkTokenScope, decodePageToken, encodePageToken, LIST_PAGE, pageSize, runCursor, taskRunCursor } from './pagination';
import { ANY_WORKFLOW, parseRunName, parseTaskRunName, parseWorkflowName, runName, taskRunName, workflowName } from './resource-names';

/** The RunService methods, transport-independent. */
export interface RunMethods {
  triggerRun(request: TriggerRunRequest, call: CallContext): Promise<TriggerRunResponse>;
  getRun(request: GetRunRequest): Promise<GetRunResponse>;
  listRuns(request: ListRunsRequest): Promise<ListRunsResponse>;
  listTaskRuns(request: ListTaskRunsRequest): Promise<ListTaskRunsResponse>;
  cancelRun(request: CancelRunRequest): Promise<CancelRunResponse>;
  backfillRuns(request: BackfillRunsRequest): Promise<BackfillRunsResponse>;
  getTaskRun(request: GetTaskRunRequest): Promise<GetTaskRunResponse>;
}

/** What a TriggerRun request_id may hold. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The store's run state of a ListRuns `state` filter; undefined for RUN_STATE_UNSPECIFIED. */
function runStateFilter(state: RunState): DomainRunState | undefined {
  if (state === RunState.RUN_STATE_UNSPECIFIED) return undefined;
  const name = RunState[state] as string | undefined;
  const domain = name?.replace(/^RUN_STATE_/, '').toLowerCase();
  const known = RUN_STATES.find((s) => s === domain);
  if (!known) throw invalidArgument('state', `unknown run state ${state}`);
  return known;
}

/** Most intervals one backfill request may create. */
export const MAX_BACKFILL_INTERVALS = 1000;

/** Longest reason a cancellation may record. */
const MAX_REASON_LENGTH = 1024;

function paramsInvalid(workflow: string, issues: readonly { param: string; message: string }[]): ApiError {
  return new ApiError(GrpcStatus.INVALID_ARGUMENT, 'PARAMS_INVALID',
    `invalid params for ${workflow}: ${issues.map((i) => `${i.param}: ${i.message}`).join('; ')}`, {
      metadata: { workflow, params: issues.map((i) => i.param).join(',') },
      fieldViolations: issues.map((i) => ({ field: `params.${i.param}`, description: i.message })),
    });
}

export function createRunMethods(ctx: ApiContext): RunMethods {
  return {
    async triggerRun(request, call) {
      const { workflowId } = parseWorkflowName(request.parent, 'parent');
      const workflow = await getWorkflow(ctx.pool, workflowId);
      if (!workflow) throw notFound('workflow', request.parent);
      checkParamsSize(request.params);
      const resolved = resolveParams(workflow.spec.spec.params, request.params ?? {});
      if (resolved.errors.length > 0) throw paramsInvalid(request.parent, resolved.errors);
      const create = async () =>
        (await ctx.runs.createRun({ workflowId, params: resolved.values, trigger: call.trigger, traceparent: call.traceparent })).runId;
      let runId: string;
      if (request.requestId === '') {
        runId = await create();
      } else {
        if (!REQUEST_ID.test(request.requestId)) throw invalidArgument('request_id', 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : -');
        // The lock is held across createRun so that concurrent retries of one request make one run.
        const { id, repeated } = await withTransaction(ctx.pool, async (client) => {
          await lockRequestId(client, workflowId, request.requestId);
          const existing = await findRequestRun(client, workflowId, request.requestId);
          if (existing) return { id: existing, repeated: true };
          const created = await create();
          await recordRequestRun(client, workflowId, request.requestId, created);
          return { id: created, repeated: false };
        });
        runId = id;
        if (repeated) {
          const run = await getRun(ctx.pool, runId);
          if (run) return { run: toRun(run) };
        }
      }
      const run = await getRun(ctx.pool, runId);
      if (!run) throw new Error(`run ${runId} was created but cannot be read`);
      ctx.logger.info({ workflow: workflowId, runId, trigger: call.trigger }, 'run triggered');
      return { run: toRun(run) };
    },

    async backfillRuns(request) {
      const { workflowId } = parseWorkflowName(request.parent, 'parent');
      const workflow = await getWorkflow(ctx.pool, workflowId);
      if (!workflow) throw notFound('workflow', request.parent);
      const { schedule, timezone } = workflow.spec.spec;
      const invalid = (field: string, description: string) =>
        new ApiError(GrpcStatus.INVALID_ARGUMENT, 'BACKFILL_INVALID', `${field}: ${description}`, { fieldViolations: [{ field, description }] });
      if (!schedule) throw invalid('parent', `workflow ${workflowId} has no schedule, so it has no data intervals to backfill`);
      if (!request.startTime) throw invalid('start_time', 'is required');
      if (!request.endTime) throw invalid('end_time', 'is required');
      checkTimestamp(request.startTime, 'start_time');
      checkTimestamp(request.endTime, 'end_time');
      if (request.endTime <= request.startTime) throw invalid('end_time', 'must be after start_time');
      if (request.maxActive < 0 || request.maxActive > MAX_BACKFILL_INTERVALS) throw invalid('max_active', `must be from 0 (no limit of its own) to ${MAX_BACKFILL_INTERVALS}`);
      const intervals = intervalsBetween({ schedule, timezone }, request.startTime, request.endTime, new Date(), MAX_BACKFILL_INTERVALS + 1);
      if (intervals.length === 0) {
        throw invalid('start_time', `no data interval of "${schedule}" (${timezone}) starts in [${request.startTime.toISOString()}, ${request.endTime.toISOString()}) and is over`);
      }
      if (intervals.length > MAX_BACKFILL_INTERVALS) throw invalid('end_time', `the range has more than ${MAX_BACKFILL_INTERVALS} intervals: split it`);
      checkParamsSize(request.params);
      const resolved = resolveParams(workflow.spec.spec.params, request.params ?? {});
      if (resolved.errors.length > 0) throw paramsInvalid(request.parent, resolved.errors);
      const { runIds, skipped } = await ctx.runs.backfill(workflowId, intervals.map((i) => i.start), resolved.values, request.rerunSucceeded, request.maxActive);
      const runs = [];
      for (const id of runIds) {
        const run = await getRun(ctx.pool, id);
        if (run) runs.push(toRun(run));
      }
      ctx.logger.info({ workflow: workflowId, created: runs.length, skipped: skipped.length }, 'backfill requested');
      return { runs, skipped };
    },

    async cancelRun(request) {
      const found = await resolveRun(ctx, parseRunName(request.name, 'name'));
      if (request.reason.length > MAX_REASON_LENGTH) {
        throw new ApiError(GrpcStatus.INVALID_ARGUMENT, 'INVALID_ARGUMENT', `reason is longer than ${MAX_REASON_LENGTH} characters`, {
          fieldViolations: [{ field: 'reason', description: `at most ${MAX_REASON_LENGTH} characters` }],
        });
      }
      const { cancelled } = await ctx.runs.cancelRun(found.id, request.reason || 'cancelled by request');
      const run = await getRun(ctx.pool, found.id);
      if (!run) throw new Error(`run ${found.id} vanished`);
      if (cancelled) ctx.logger.info({ runId: run.id, workflow: run.workflowId }, 'run cancelled');
      return { run: toRun(run), cancelled };
    },

    async getRun(request) {
      const run = await resolveRun(ctx, parseRunName(request.name, 'name'));
      return { run: toRun(run) };
    },

    async listRuns(request) {
      const { workflowId } = parseWorkflowName(request.parent, 'parent', { allowAny: true });
      const limit = pageSize(request.pageSize, LIST_PAGE);
      const cursor = decodePageToken(request.pageToken, runCursor);
      if (cursor) checkTokenScope(cursor.parent, workflowId);
      checkTimestamp(request.createTimeAfter, 'create_time_after');
      checkTimestamp(request.createTimeBefore, 'create_time_before');
      if (cursor) checkTimestamp(new Date(cursor.time), 'page_token');
      const filter = workflowId === ANY_WORKFLOW ? undefined : workflowId;
      // Listing the runs of a workflow that does not exist is NOT_FOUND, not an empty page (AIP-132).
      if (filter !== undefined && !cursor && !(await getWorkflow(ctx.pool, filter))) throw notFound('workflow', workflowName(filter));
      const rows = await listRunsFiltered(ctx.pool, {
        workflowId: filter, limit: limit + 1, after: cursor && { createTime: new Date(cursor.time), id: cursor.id },
        state: runStateFilter(request.state), createdAfter: request.createTimeAfter, createdBefore: request.createTimeBefore,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        runs: page.map(toRun),
        nextPageToken: rows.length > limit && last
          ? encodePageToken({ k: 'runs', parent: workflowId, time: last.createTime.toISOString(), id: last.id })
          : '',
      };
    },

    async getTaskRun(request) {
      const name = parseTaskRunName(request.name, 'name');
      const run = await resolveRun(ctx, name);
      const taskRun = (await loadTaskRuns(ctx, run)).find((t) => t.task === name.task);
      if (!taskRun) throw notFound('task', taskRunName(run.workflowId, run.id, name.task));
      return { taskRun };
    },

    async listTaskRuns(request) {
      const name = parseRunName(request.parent, 'parent');
      const limit = pageSize(request.pageSize, LIST_PAGE);
      const cursor = decodePageToken(request.pageToken, taskRunCursor);
      const run = await resolveRun(ctx, name);
      const scope = runName(run.workflowId, run.id);
      if (cursor) checkTokenScope(cursor.parent, scope);
      const [taskRuns, attempts, spec] = await Promise.all([
        listTaskRuns(ctx.pool, run.id),
        listRunAttempts(ctx.pool, run.id),
        ctx.workflowVersionSpec(run.workflowId, run.workflowVersion),
      ]);
      const remaining = cursor ? taskRuns.filter((t) => t.position > cursor.position) : taskRuns;
      const page = remaining.slice(0, limit);
      const byTask = new Map<string, AttemptRecord[]>();
      for (const attempt of attempts) byTask.set(attempt.task, [...(byTask.get(attempt.task) ?? []), attempt]);
          const last = page[page.length - 1];
      return {
        taskRuns: page.map((t) => toTaskRun(run.workflowId, t, byTask.get(t.task) ?? [], spec)),
        nextPageToken: remaining.length > limit && last ? encodePageToken({ k: 'tasks', parent: scope, position: last.position }) : '',
      };
    },
  };
}
