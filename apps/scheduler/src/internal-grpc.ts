import type { ParamValue } from '@skein/domain';
import * as grpc from '@grpc/grpc-js';
import { bearerTokenInterceptor } from '@skein/config';
import {
  BackfillRequest, BackfillResponse, CreateRunRequest, CreateRunResponse, RetryTasksRequest, RetryTasksResponse, SchedulerServiceClient, SchedulerServiceService, StopRunRequest, StopRunResponse,
  type SchedulerServiceServer,
} from '@skein/proto';
import { isNotFound } from '@skein/store';
import { parseTraceparent } from '@skein/telemetry';
import { RunNotEndedError } from './run-applier';
import type { Scheduler } from './scheduler';

/** The internal SchedulerService (called by the api service) backed by a Scheduler. */
export function schedulerGrpcImplementation(scheduler: Pick<Scheduler, 'createRun' | 'cancelRun' | 'backfill' | 'retryRun'>): SchedulerServiceServer {
  return {
    retryTasks(call, callback) {
      scheduler.retryRun(call.request.runId, call.request.task || undefined)
        .then((r) => callback(null, RetryTasksResponse.fromPartial({ tasks: r.tasks })))
        .catch((err: unknown) => callback({
          code: isNotFound(err) ? grpc.status.NOT_FOUND : err instanceof RunNotEndedError ? grpc.status.FAILED_PRECONDITION : grpc.status.INTERNAL,
          details: isNotFound(err) || err instanceof RunNotEndedError ? (err as Error).message : 'the scheduler could not retry the run',
        }));
    },
    backfill(call, callback) {
      const req = call.request;
      scheduler.backfill(req.workflowId, req.logicalDates, scalarParams(req.params), req.rerunSucceeded, req.maxActive)
        .then((r) => callback(null, BackfillResponse.fromPartial({ runIds: r.runIds, skipped: r.skipped })))
        .catch((err: unknown) => callback({
          code: isNotFound(err) ? grpc.status.NOT_FOUND : grpc.status.INTERNAL,
          details: isNotFound(err) ? (err as Error).message : 'the scheduler could not create the backfill',
        }));
    },
    stopRun(call, callback) {
      scheduler.cancelRun(call.request.runId, call.request.reason)
        .then((r) => callback(null, StopRunResponse.fromPartial({ stopped: r.cancelled })))
        .catch((err: unknown) => callback({
          code: isNotFound(err) ? grpc.status.NOT_FOUND : grpc.status.INTERNAL,
          details: isNotFound(err) ? (err as Error).message : 'the scheduler could not cancel the run',
        }));
    },
    createRun(call, callback) {
      const req = call.request;
      const params = scalarParams(req.params);
      const traceparent = call.metadata.get('traceparent')[0];
      scheduler.createRun({
        workflowId: req.workflowId, params, trigger: req.trigger || 'api', logicalDate: req.logicalDate,
        traceparent: typeof traceparent === 'string' && parseTraceparent(traceparent) ? traceparent : undefined,
      })
        .then((r) => callback(null, CreateRunResponse.fromPartial({ runId: r.runId })))
        .catch((err: unknown) => callback({
          code: isNotFound(err) ? grpc.status.NOT_FOUND : grpc.status.INTERNAL,
          details: isNotFound(err) ? (err as Error).message : 'the scheduler could not create the run',
        }));
    },
  };
}

export function addSchedulerService(server: grpc.Server, scheduler: Pick<Scheduler, 'createRun' | 'cancelRun' | 'backfill' | 'retryRun'>): void {
  server.addService(SchedulerServiceService, schedulerGrpcImplementation(scheduler));
}

export interface SchedulerClientOptions {
  /** host:port of the scheduler's internal gRPC server. */
  readonly address: string;
  /** @default 10000 */
  readonly deadlineMs?: number;
  /** The shared secret the scheduler's server requires (`SKEIN_INTERNAL_TOKEN`). */
  readonly internalToken: string;
}

/** The scheduler's commands over internal gRPC (the api service's RunCommands when distributed). */
export function createSchedulerClient(options: SchedulerClientOptions) {
  const client = new SchedulerServiceClient(options.address, grpc.credentials.createInsecure(), {
    interceptors: [bearerTokenInterceptor(options.internalToken)],
  });
  const deadline = () => new Date(Date.now() + (options.deadlineMs ?? 10_000));
  return {
    createRun(command: { workflowId: string; params: Record<string, ParamValue>; trigger: string; logicalDate?: Date; traceparent?: string }): Promise<{ runId: string }> {
      const request = CreateRunRequest.fromPartial({ workflowId: command.workflowId, params: command.params, trigger: command.trigger, logicalDate: command.logicalDate });
      // The trace context crosses to the scheduler in gRPC metadata.
      const metadata = new grpc.Metadata();
      if (command.traceparent) metadata.set('traceparent', command.traceparent);
      return new Promise((resolve, reject) => {
        client.createRun(request, metadata, { deadline: deadline() }, (err, res) => (err ? reject(err) : resolve({ runId: res.runId })));
      });
    },
    cancelRun(runId: string, reason: string): Promise<{ cancelled: boolean }> {
      return new Promise((resolve, reject) => {
        client.stopRun(StopRunRequest.fromPartial({ runId, reason }), new grpc.Metadata(), { deadline: deadline() },
          (err, res) => (err ? reject(err) : resolve({ cancelled: res.stopped })));
      });
    },
    backfill(workflowId: string, logicalDates: readonly Date[], params: Record<string, ParamValue>, rerunSucceeded: boolean, maxActive = 0):
      Promise<{ runIds: string[]; skipped: Date[] }> {
      return new Promise((resolve, reject) => {
        client.backfill(BackfillRequest.fromPartial({ workflowId, logicalDates: [...logicalDates], params, rerunSucceeded, maxActive }), new grpc.Metadata(),
          { deadline: new Date(Date.now() + 60_000) }, (err, res) => (err ? reject(err) : resolve({ runIds: res.runIds, skipped: res.skipped })));
      });
    },
    retryRun(runId: string, task?: string): Promise<{ tasks: string[] }> {
      return new Promise((resolve, reject) => {
        client.retryTasks(RetryTasksRequest.fromPartial({ runId, task: task ?? '' }), new grpc.Metadata(), { deadline: deadline() },
          (err, res) => (err ? reject(err) : resolve({ tasks: res.tasks })));
      });
    },
    close(): void {
      client.close();
    },
  };
}

/** Params arrive as a Struct; Skein's param values are strings, numbers, booleans and objects (checked by the api). */
function scalarParams(struct: Record<string, unknown> | undefined): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(struct ?? {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') params[k] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) params[k] = v as Record<string, unknown>;
  }
  return params;
}
