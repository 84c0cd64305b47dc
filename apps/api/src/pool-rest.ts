/**
 * The PoolService over REST (mounted by rest-router.ts):
 *   POST   /v1/pools:apply   {source, fileName}
 *   GET    /v1/pools         ?pageSize&pageToken
 *   GET    /v1/pools/{name}
 *   DELETE /v1/pools/{name}
 */
import express from 'express';
import { ApplyPoolRequest, ApplyPoolResponse, DeletePoolResponse, GetPoolResponse, ListPoolsResponse } from '@skein/proto';
import { bodyObject, pageSizeQuery, queryString } from './rest-request';
import type { PoolMethods } from './pool-methods';
import type { RestRoute } from './template-rest';



/** The pool routes. */
export function poolRoutes(methods: PoolMethods, route: RestRoute): express.Router {
  const router = express.Router();
  router.post('/v1/pools\\:apply', route('ApplyPool', async (req) =>
    ApplyPoolResponse.toJSON(await methods.applyPool(ApplyPoolRequest.fromJSON(bodyObject(req))))));
  router.get('/v1/pools', route('ListPools', async (req) =>
    ListPoolsResponse.toJSON(await methods.listPools({ pageSize: pageSizeQuery(req), pageToken: queryString(req, 'pageToken', 'page_token') }))));
  router.get('/v1/pools/:p', route('GetPool', async (req) =>
    GetPoolResponse.toJSON(await methods.getPool({ name: `pools/${String(req.params['p'] ?? '')}` }))));
  router.delete('/v1/pools/:p', route('DeletePool', async (req) =>
    DeletePoolResponse.toJSON(await methods.deletePool({ name: `pools/${String(req.params['p'] ?? '')}` }))));
  return router;
}
