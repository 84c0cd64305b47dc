/**
 * The PoolService over REST (mounted by rest-router.ts):
 *   POST   /v1/pools:apply   {source, fileName}
 *   GET    /v1/pools         ?pageSize&pageToken
 *   GET    /v1/pools/{name}
 *   DELETE /v1/pools/{name}
 */
import express, { type Request } from 'express';
import { ApplyPoolRequest, ApplyPoolResponse, DeletePoolResponse, GetPoolResponse, ListPoolsResponse } from '@skein/proto';
import { invalidArgument } from './errors';
import type { PoolMethods } from './pool-methods';
import type { RestRoute } from './template-rest';

function body(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

function query(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === 'string' ? value : '';
}

/** The pool routes. */
export function poolRoutes(methods: PoolMethods, route: RestRoute): express.Router {
  const router = express.Router();
  router.post('/v1/pools\\:apply', route('ApplyPool', async (req) =>
    ApplyPoolResponse.toJSON(await methods.applyPool(ApplyPoolRequest.fromJSON(body(req))))));
  router.get('/v1/pools', route('ListPools', async (req) => {
    const pageSize = query(req, 'pageSize');
    if (pageSize !== '' && !/^\d{1,9}$/.test(pageSize)) throw invalidArgument('page_size', 'must be a non-negative integer');
    return ListPoolsResponse.toJSON(await methods.listPools({ pageSize: Number(pageSize || 0), pageToken: query(req, 'pageToken') }));
  }));
  router.get('/v1/pools/:p', route('GetPool', async (req) =>
    GetPoolResponse.toJSON(await methods.getPool({ name: `pools/${String(req.params['p'] ?? '')}` }))));
  router.delete('/v1/pools/:p', route('DeletePool', async (req) =>
    DeletePoolResponse.toJSON(await methods.deletePool({ name: `pools/${String(req.params['p'] ?? '')}` }))));
  return router;
}
