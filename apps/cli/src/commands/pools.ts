import { Pool } from '@skein/proto';
import { collectPages, type CommandContext } from '../command-context';
import { age, details, json, keyValues, table, timestamp } from '../format';
import { createPoolClient, type PoolClient } from '../template-client';

async function withPools<T>(ctx: CommandContext, use: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = createPoolClient(ctx.client().connection);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** `pools/NAME` from `NAME` (or a full resource name). */
function poolNameOf(pool: string): string {
  return pool.startsWith('pools/') ? pool : `pools/${pool}`;
}

/** `skein pools list`: every pool with its slots in use and its waiting tasks. */
export async function listPoolsCommand(ctx: CommandContext): Promise<number> {
  const pools = await withPools(ctx, (client) => collectPages(async (pageToken) => {
    const res = await client.listPools({ pageSize: 1000, pageToken });
    return { items: res.pools, nextPageToken: res.nextPageToken };
  }));
  if (ctx.output === 'json') {
    ctx.out(json({ pools: pools.map((p) => Pool.toJSON(p)) }));
    return 0;
  }
  if (pools.length === 0) {
    ctx.out('no pools: apply one with `skein apply -f FILE` (a `kind: Pool` document)');
    return 0;
  }
  ctx.out(table(['name', 'slots', 'used', 'waiting', 'updated'],
    pools.map((p) => [p.poolId, String(p.slots), String(p.usedSlots), String(p.waitingTasks), age(p.updateTime)])));
  return 0;
}

/** `skein pools get POOL`. */
export async function getPoolCommand(ctx: CommandContext, pool: string): Promise<number> {
  const res = await withPools(ctx, (client) => client.getPool({ name: poolNameOf(pool) }));
  const p = res.pool;
  if (!p) return 1;
  if (ctx.output === 'json') {
    ctx.out(json(Pool.toJSON(p)));
    return 0;
  }
  ctx.out(details([
    ['Name', p.name],
    ['Slots', String(p.slots)],
    ['Used', String(p.usedSlots)],
    ['Waiting', `${p.waitingTasks} ${p.waitingTasks === 1 ? 'task' : 'tasks'}`],
    ['Description', p.description || '-'],
    ['Labels', keyValues(p.labels)],
    ['Created', timestamp(p.createTime)],
    ['Updated', timestamp(p.updateTime)],
  ]));
  return 0;
}

/** `skein pools delete POOL`: refused while a workflow names it or tasks hold or wait for its slots. */
export async function deletePoolCommand(ctx: CommandContext, pool: string): Promise<number> {
  await withPools(ctx, (client) => client.deletePool({ name: poolNameOf(pool) }));
  if (ctx.output === 'json') ctx.out(json({}));
  else ctx.out(`pool ${pool.replace(/^pools\//, '')} deleted`);
  return 0;
}
