/**
 * The PoolService methods, transport-independent: pools (`kind: Pool`) applied from a file's text,
 * read with their current use, and deleted when nothing uses them. Also {@link storedPools}, which the
 * workflow methods use to check a workflow's `pool:` fields at apply time.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { z } from 'zod';
import { parseWorkflowFile, type ParseOptions, type PoolSpec } from '@skein/domain';
import {
  type ApplyPoolRequest, type ApplyPoolResponse, type DeletePoolRequest, type DeletePoolResponse, type GetPoolRequest, type GetPoolResponse,
  type ListPoolsRequest, type ListPoolsResponse, type Pool,
} from '@skein/proto';
import { applyPool, deletePool, getPool, listPools, poolSpecOf, type PoolRecord, type Queryable } from '@skein/store';
import type { ApiContext } from './api-context';
import { ApiError, fileInvalid, invalidArgument } from './errors';
import { decodePageToken, encodePageToken, LIST_PAGE, pageSize } from './pagination';

/** Largest pool file accepted, in UTF-8 bytes (a pool is a few lines). */
export const MAX_POOL_SOURCE_BYTES = 64 * 1024;
/** The most stored pools consulted when a workflow's pool fields are checked. */
const MAX_STORED_POOLS = 10_000;

const poolCursor = z.object({ k: z.literal('pools'), after: z.string().min(1) }).strict();

/** The PoolService methods. */
export interface PoolMethods {
  applyPool(request: ApplyPoolRequest): Promise<ApplyPoolResponse>;
  getPool(request: GetPoolRequest): Promise<GetPoolResponse>;
  listPools(request: ListPoolsRequest): Promise<ListPoolsResponse>;
  deletePool(request: DeletePoolRequest): Promise<DeletePoolResponse>;
}

/** `pools/{name}` of a pool. */
export function poolName(name: string): string {
  return `pools/${name}`;
}

function parsePoolName(value: string, field: string): string {
  const match = /^pools\/([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/.exec(value);
  if (!match?.[1]) throw invalidArgument(field, `${JSON.stringify(value)} is not a resource name of the form \`pools/{pool}\``);
  return match[1];
}

function toPool(record: PoolRecord): Pool {
  return {
    name: poolName(record.name), poolId: record.name, slots: record.slots, description: record.description, labels: { ...record.labels },
    usedSlots: record.usedSlots, waitingTasks: record.waitingTasks, createTime: record.createTime, updateTime: record.updateTime,
  };
}


function poolNotFound(name: string): ApiError {
  return new ApiError(GrpcStatus.NOT_FOUND, 'POOL_NOT_FOUND', `pool ${name} not found`, { metadata: { resource: name } });
}

/** Parse options that check `pool:` fields against the stored pools (after the file's own); one query. */
export async function storedPools(db: Queryable): Promise<ParseOptions> {
  const rows = await listPools(db, { limit: MAX_STORED_POOLS });
  const byName = new Map<string, PoolSpec>(rows.map((row) => [row.name, poolSpecOf(row)]));
  return { pools: (name) => byName.get(name), poolNames: () => [...byName.keys()] };
}

export function createPoolMethods(ctx: ApiContext): PoolMethods {
  return {
    async applyPool(request) {
      if (Buffer.byteLength(request.source, 'utf8') > MAX_POOL_SOURCE_BYTES) {
        throw invalidArgument('source', `is larger than ${MAX_POOL_SOURCE_BYTES} bytes; a pool is one short document`);
      }
      const fileName = request.fileName || 'pool.yaml';
      const parsed = parseWorkflowFile(request.source, fileName);
      const [first, ...rest] = parsed.pools;
      if (parsed.errors.length > 0) throw fileInvalid(parsed.errors, 'POOL_INVALID');
      if (!first || rest.length > 0 || parsed.workflows.length > 0 || parsed.templates.length > 0) {
        throw fileInvalid([{
          file: fileName, line: 1, column: 1, path: '',
          message: `expected exactly one Pool document per request, found ${parsed.pools.length} (and ${parsed.workflows.length + parsed.templates.length} other documents); apply each separately`,
        }], 'POOL_INVALID');
      }
      const result = await applyPool(ctx.pool, first.spec);
      ctx.logger.info({ pool: first.spec.metadata.name, slots: first.spec.spec.slots, created: result.created }, 'pool applied');
      return { pool: toPool(result.pool), created: result.created };
    },

    async getPool(request) {
      const name = parsePoolName(request.name, 'name');
      const record = await getPool(ctx.pool, name);
      if (!record) throw poolNotFound(request.name);
      return { pool: toPool(record) };
    },

    async listPools(request) {
      const limit = pageSize(request.pageSize, LIST_PAGE);
      const cursor = decodePageToken(request.pageToken, poolCursor);
      const rows = await listPools(ctx.pool, { limit: limit + 1, afterName: cursor?.after });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { pools: page.map(toPool), nextPageToken: rows.length > limit && last ? encodePageToken({ k: 'pools', after: last.name }) : '' };
    },

    async deletePool(request) {
      const name = parsePoolName(request.name, 'name');
      const result = await deletePool(ctx.pool, name);
      if (result.inUse) {
        const { workflows, usedSlots, waitingTasks } = result.inUse;
        const uses = [
          ...(workflows.length > 0 ? [`named by workflow${workflows.length > 1 ? 's' : ''} ${workflows.join(', ')}`] : []),
          ...(usedSlots > 0 ? [`${usedSlots} slot${usedSlots > 1 ? 's' : ''} held`] : []),
          ...(waitingTasks > 0 ? [`${waitingTasks} task${waitingTasks > 1 ? 's' : ''} waiting`] : []),
        ];
        throw new ApiError(GrpcStatus.FAILED_PRECONDITION, 'POOL_IN_USE', `pool ${request.name} is in use (${uses.join('; ')}): remove it from those workflows and let their tasks finish first`, {
          metadata: { resource: request.name, workflows: workflows.join(','), usedSlots: String(usedSlots), waitingTasks: String(waitingTasks) },
        });
      }
      if (!result.deleted) throw poolNotFound(request.name);
      ctx.logger.info({ pool: name }, 'pool deleted');
      return {};
    },
  };
}
