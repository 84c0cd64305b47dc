import * as grpc from '@grpc/grpc-js';
import { createInternalGrpcServer, listenGrpc, stopGrpc } from '@skein/config';
import { addSchedulerService, createSchedulerClient } from './internal-grpc';
import { NotFoundError } from '@skein/store';
import { RunNotEndedError, type CreateRunInput } from './run-applier';

describe('internal SchedulerService', () => {
  const internalToken = 'i'.repeat(40);

  it('creates runs over gRPC, carrying the trace context in metadata', async () => {
    const seen: CreateRunInput[] = [];
    const stopped: string[] = [];
    const server = createInternalGrpcServer(internalToken);
    addSchedulerService(server, {
      retryRun: async (runId, task) => {
        if (runId === 'running') throw new RunNotEndedError(runId, 'running');
        return { tasks: [task ?? 'all'] };
      },
      backfill: async (workflowId, dates, params, rerun) => ({ runIds: dates.map((d) => `${workflowId}@${d.toISOString()}:${JSON.stringify(params)}:${rerun}`), skipped: [] }),
      cancelRun: async (runId, reason) => {
        stopped.push(`${runId}:${reason}`);
        if (runId === 'gone') throw new NotFoundError('run', runId);
        return { cancelled: runId === 'live' };
      },
      createRun: async (input) => {
        seen.push(input);
        if (input.workflowId === 'missing') throw Object.assign(new Error('workflow "missing" not found'), { name: 'NotFoundError' });
        return { runId: 'r1' };
      },
    });
    const port = await listenGrpc(server, '127.0.0.1', 0);
    const client = createSchedulerClient({ address: `127.0.0.1:${port}`, deadlineMs: 5000, internalToken });
    const intruder = createSchedulerClient({ address: `127.0.0.1:${port}`, deadlineMs: 5000, internalToken: 'w'.repeat(40) });
    try {
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const created = await client.createRun({ workflowId: 'etl', params: { n: 3, ok: true }, trigger: 'manual', traceparent });
      expect(created).toEqual({ runId: 'r1' });
      expect(seen[0]).toMatchObject({ workflowId: 'etl', params: { n: 3, ok: true }, trigger: 'manual', traceparent });
      await client.createRun({ workflowId: 'etl', params: {}, trigger: 'api', traceparent: 'garbage' });
      expect(seen[1]?.traceparent).toBeUndefined();
      expect(await client.cancelRun('live', 'stop it')).toEqual({ cancelled: true });
      expect(await client.cancelRun('ended', 'again')).toEqual({ cancelled: false });
      await expect(client.cancelRun('gone', 'x')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
      expect(stopped).toEqual(['live:stop it', 'ended:again', 'gone:x']);
      expect(await client.retryRun('ended', 'b')).toEqual({ tasks: ['b'] });
      expect(await client.retryRun('ended')).toEqual({ tasks: ['all'] });
      await expect(client.retryRun('running')).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
      const dates = [new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T01:00:00Z')];
      expect(await client.backfill('etl', dates, { n: 1 }, true)).toEqual({
        runIds: ['etl@2026-01-01T00:00:00.000Z:{"n":1}:true', 'etl@2026-01-01T01:00:00.000Z:{"n":1}:true'], skipped: [],
      });
      // A caller without the internal token reaches nothing.
      const before = seen.length;
      await expect(intruder.createRun({ workflowId: 'etl', params: {}, trigger: 'api' })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      await expect(intruder.cancelRun('live', 'no')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      expect(seen.length).toBe(before);
      expect(stopped).toEqual(['live:stop it', 'ended:again', 'gone:x']);
    } finally {
      client.close();
      intruder.close();
      await stopGrpc(server);
    }
  });

  it('reaches whichever of several scheduler replicas answers (a gRPC target naming them all)', async () => {
    const server = createInternalGrpcServer(internalToken);
    addSchedulerService(server, {
      retryRun: async () => ({ tasks: [] }), backfill: async () => ({ runIds: [], skipped: [] }), cancelRun: async () => ({ cancelled: true }),
      createRun: async () => ({ runId: 'from-the-live-replica' }),
    });
    const live = await listenGrpc(server, '127.0.0.1', 0);
    // A port nothing listens on: the first replica is down.
    const probe = createInternalGrpcServer(internalToken);
    const dead = await listenGrpc(probe, '127.0.0.1', 0);
    await stopGrpc(probe);
    const client = createSchedulerClient({ address: `ipv4:127.0.0.1:${dead},127.0.0.1:${live}`, deadlineMs: 5000, internalToken });
    try {
      expect(await client.createRun({ workflowId: 'etl', params: {}, trigger: 'api' })).toEqual({ runId: 'from-the-live-replica' });
    } finally {
      client.close();
      await stopGrpc(server);
    }
  });
});
