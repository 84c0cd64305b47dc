import * as grpc from '@grpc/grpc-js';
import {
  CreateRunRequest, CreateRunResponse, SchedulerServiceClient, SchedulerServiceService, type SchedulerServiceServer,
} from '@skein/proto';
import { isNotFound } from '@skein/store';
import { parseTraceparent } from '@skein/telemetry';
import type { Scheduler } from './scheduler';

/** The internal SchedulerService (called by the api service) backed by a Scheduler. */
export function schedulerGrpcImplementation(scheduler: Pick<Scheduler, 'createRun'>): SchedulerServiceServer {
  return {
    createRun(call, callback) {
      const req = call.request;
      const params: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(req.params ?? {})) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') params[k] = v;
      }
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

export function addSchedulerService(server: grpc.Server, scheduler: Pick<Scheduler, 'createRun'>): void {
  server.addService(SchedulerServiceService, schedulerGrpcImplementation(scheduler));
}

export interface SchedulerClientOptions {
  /** host:port of the scheduler's internal gRPC server. */
  readonly address: string;
  /** @default 10000 */
  readonly deadlineMs?: number;
}

/** The scheduler's commands over internal gRPC (the api service's RunCommands when distributed). */
export function createSchedulerClient(options: SchedulerClientOptions) {
  const client = new SchedulerServiceClient(options.address, grpc.credentials.createInsecure());
  const deadline = () => new Date(Date.now() + (options.deadlineMs ?? 10_000));
  return {
    createRun(command: { workflowId: string; params: Record<string, string | number | boolean>; trigger: string; logicalDate?: Date; traceparent?: string }): Promise<{ runId: string }> {
      const request = CreateRunRequest.fromPartial({ workflowId: command.workflowId, params: command.params, trigger: command.trigger, logicalDate: command.logicalDate });
      // The trace context crosses to the scheduler in gRPC metadata.
      const metadata = new grpc.Metadata();
      if (command.traceparent) metadata.set('traceparent', command.traceparent);
      return new Promise((resolve, reject) => {
        client.createRun(request, metadata, { deadline: deadline() }, (err, res) => (err ? reject(err) : resolve({ runId: res.runId })));
      });
    },
    close(): void {
      client.close();
    },
  };
}
