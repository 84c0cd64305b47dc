import { connectivityState, credentials } from '@grpc/grpc-js';
import { WorkflowServiceClient } from '@skein/proto';
import { GRPC_SERVER_OPTIONS, MIN_CLIENT_PING_INTERVAL_MS, SERVER_KEEPALIVE_TIMEOUT_MS } from './grpc-options';
import { call, startTestApi, type TestApi } from './test-harness';

describe('gRPC keepalive', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('sets the policy docs/clients.md documents', () => {
    expect(GRPC_SERVER_OPTIONS).toMatchObject({
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': MIN_CLIENT_PING_INTERVAL_MS,
      'grpc.keepalive_timeout_ms': SERVER_KEEPALIVE_TIMEOUT_MS,
    });
    // A client pinging every 10 s (tonic's usual http2_keep_alive_interval, elixir-grpc's Mint) is within policy.
    expect(MIN_CLIENT_PING_INTERVAL_MS).toBeLessThanOrEqual(10_000);
  });

  it('keeps the connection of a client that pings every second while idle', async () => {
    const client = new WorkflowServiceClient(api.grpcAddress, credentials.createInsecure(), {
      ...api.clientOptions, 'grpc.keepalive_time_ms': 1000, 'grpc.keepalive_timeout_ms': 5000, 'grpc.keepalive_permit_without_calls': 1,
    });
    try {
      await call(client.listWorkflows.bind(client), { pageSize: 1, pageToken: '', filter: '' });
      const channel = client.getChannel();
      expect(channel.getConnectivityState(false)).toBe(connectivityState.READY);
      // Idle for 3 s while the client pings: a server that refused the pings would send GOAWAY and
      // the channel would leave READY; the watch ends on its deadline only if it stayed READY.
      const changed = await new Promise<boolean>((resolve) => {
        channel.watchConnectivityState(connectivityState.READY, Date.now() + 3000, (err) => resolve(!err));
      });
      expect(changed).toBe(false);
      await call(client.listWorkflows.bind(client), { pageSize: 1, pageToken: '', filter: '' });
    } finally {
      client.close();
    }
  });
});
