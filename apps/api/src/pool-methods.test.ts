import { credentials, status } from '@grpc/grpc-js';
import { PoolServiceClient } from '@skein/proto';
import { decodeErrorDetails } from './status';
import { call, callError, startTestApi, type TestApi } from './test-harness';

const poolYaml = (name: string, slots: number | string, description = '') =>
  `apiVersion: skein.dev/v1\nkind: Pool\nmetadata: {name: ${name}}\nspec:\n  slots: ${slots}\n${description ? `  description: ${description}\n` : ''}`;
const pooledWorkflow = (name: string, poolName: string, poolSlots = 1) =>
  `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: ${name}}\nspec:\n  tasks:\n    - {name: load, command: ["true"], pool: ${poolName}, poolSlots: ${poolSlots}}\n`;

describe('PoolService', () => {
  let api: TestApi;
  let pools: PoolServiceClient;

  beforeAll(async () => {
    api = await startTestApi();
    pools = new PoolServiceClient(api.grpcAddress, credentials.createInsecure(), api.clientOptions);
  });

  afterAll(async () => {
    pools.close();
    await api.close();
  });

  const applyPool = (source: string) => call(pools.applyPool.bind(pools), { source, fileName: 'pool.yaml' });
  const applyWorkflow = (source: string) => call(api.workflows.applyWorkflow.bind(api.workflows), { source, fileName: 'w.yaml' });

  it('applies, changes, gets and lists pools with their use', async () => {
    const created = await applyPool(poolYaml('warehouse', 4, 'the warehouse allows 4 connections'));
    expect(created).toMatchObject({ created: true, pool: { name: 'pools/warehouse', poolId: 'warehouse', slots: 4, usedSlots: 0, waitingTasks: 0 } });
    const changed = await applyPool(poolYaml('warehouse', 6));
    expect(changed).toMatchObject({ created: false, pool: { slots: 6, description: '' } });
    await applyPool(poolYaml('api-quota', 2));
    await applyPool(poolYaml('gpu', 1));
    expect((await call(pools.getPool.bind(pools), { name: 'pools/warehouse' })).pool).toMatchObject({ slots: 6 });
    const first = await call(pools.listPools.bind(pools), { pageSize: 2, pageToken: '' });
    expect(first.pools.map((p) => p.poolId)).toEqual(['api-quota', 'gpu']);
    const second = await call(pools.listPools.bind(pools), { pageSize: 2, pageToken: first.nextPageToken });
    expect(second.pools.map((p) => p.poolId)).toEqual(['warehouse']);
    expect(second.nextPageToken).toBe('');
  });

  it('rejects a bad pool document naming the field, and a file that is not one pool', async () => {
    const bad = await callError(pools.applyPool.bind(pools), { source: poolYaml('bad', -2), fileName: 'bad.yaml' });
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    const details = decodeErrorDetails(bad.metadata);
    expect(details.errorInfo?.reason).toBe('POOL_INVALID');
    expect(details.fieldViolations.map((v) => v.field)).toEqual(['spec.slots']);
    expect(bad.details).toContain('bad.yaml:5:');
    const two = await callError(pools.applyPool.bind(pools), { source: `${poolYaml('a', 1)}---\n${poolYaml('b', 1)}`, fileName: 'two.yaml' });
    expect(two.details).toContain('expected exactly one Pool document per request, found 2');
  });

  it('checks a workflow\'s pools at apply and validate time, naming the task field', async () => {
    await applyPool(poolYaml('small', 1));
    const unknown = await callError(api.workflows.applyWorkflow.bind(api.workflows), { source: pooledWorkflow('needs-pool', 'smal'), fileName: 'w.yaml' });
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeErrorDetails(unknown.metadata).fieldViolations).toEqual([
      { field: 'spec.tasks[0].pool', description: expect.stringContaining('unknown pool "smal" (did you mean "small"?)') },
    ]);
    const tooBig = await callError(api.workflows.validateWorkflow.bind(api.workflows), { source: pooledWorkflow('too-big', 'small', 2), fileName: 'w.yaml' });
    expect(decodeErrorDetails(tooBig.metadata).fieldViolations.map((v) => v.field)).toEqual(['spec.tasks[0].poolSlots']);
    // A pool defined in the same file counts.
    const together = await applyWorkflow(`${poolYaml('inline', 2)}---\n${pooledWorkflow('with-own-pool', 'inline')}`);
    expect(together.created).toBe(true);
  });

  it('refuses to delete a pool a workflow names, deletes an unused one, and 404s an unknown one', async () => {
    await applyPool(poolYaml('busy', 1));
    await applyWorkflow(pooledWorkflow('uses-busy', 'busy'));
    const inUse = await callError(pools.deletePool.bind(pools), { name: 'pools/busy' });
    expect(inUse.code).toBe(status.FAILED_PRECONDITION);
    expect(decodeErrorDetails(inUse.metadata).errorInfo).toMatchObject({ reason: 'POOL_IN_USE', metadata: { workflows: 'uses-busy' } });
    expect(inUse.details).toContain('named by workflow uses-busy');
    await applyPool(poolYaml('idle', 1));
    await call(pools.deletePool.bind(pools), { name: 'pools/idle' });
    expect((await callError(pools.getPool.bind(pools), { name: 'pools/idle' })).code).toBe(status.NOT_FOUND);
    expect((await callError(pools.deletePool.bind(pools), { name: 'pools/idle' })).code).toBe(status.NOT_FOUND);
    expect((await callError(pools.getPool.bind(pools), { name: 'pools/../etc' })).code).toBe(status.INVALID_ARGUMENT);
  });

  it('serves the same over REST', async () => {
    const post = await api.fetch(`/v1/pools:apply`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: poolYaml('rest-pool', 3), fileName: 'p.yaml' }),
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toMatchObject({ created: true, pool: { name: 'pools/rest-pool', slots: 3 } });
    const got = await api.fetch(`/v1/pools/rest-pool`);
    expect(await got.json()).toMatchObject({ pool: { poolId: 'rest-pool' } });
    const list = await (await api.fetch(`/v1/pools?pageSize=100`)).json() as { pools: { poolId: string }[] };
    expect(list.pools.map((p) => p.poolId)).toContain('rest-pool');
    expect((await api.fetch(`/v1/pools?pageSize=x`)).status).toBe(400);
    const bad = await api.fetch(`/v1/pools:apply`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: poolYaml('x', '"lots"') }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 3, details: [expect.objectContaining({ reason: 'POOL_INVALID' }), expect.anything()] });
    expect((await api.fetch(`/v1/pools/rest-pool`, { method: 'DELETE' })).status).toBe(200);
    expect((await api.fetch(`/v1/pools/rest-pool`)).status).toBe(404);
  });
});
