/**
 * The TokenService and AuditService over REST (mounted by rest-router.ts):
 *   POST /v1/tokens              {displayName, role}
 *   GET  /v1/tokens              ?pageSize&pageToken&showRevoked
 *   POST /v1/tokens/{id}:revoke
 *   GET  /v1/auditEvents         ?pageSize&pageToken
 */
import express from 'express';
import { CreateTokenRequest, CreateTokenResponse, ListAuditEventsResponse, ListTokensResponse, RevokeTokenResponse } from '@skein/proto';
import type { AuditMethods } from './audit-methods';
import { invalidArgument } from './errors';
import { bodyObject, booleanQuery, pageSizeQuery, queryString } from './rest-request';
import type { RestRoute } from './template-rest';
import type { TokenMethods } from './token-methods';





export function tokenRoutes(methods: TokenMethods & AuditMethods, route: RestRoute): express.Router {
  const router = express.Router();
  router.post('/v1/tokens', route('CreateToken', async (req) => {
    const fields = bodyObject(req);
    if (fields['role'] !== undefined && typeof fields['role'] !== 'string' && typeof fields['role'] !== 'number') throw invalidArgument('role', 'must be a role name');
    return CreateTokenResponse.toJSON(await methods.createToken(CreateTokenRequest.fromJSON(fields)));
  }));
  router.get('/v1/tokens', route('ListTokens', async (req) => ListTokensResponse.toJSON(await methods.listTokens({
    pageSize: pageSizeQuery(req), pageToken: queryString(req, 'pageToken', 'page_token'), showRevoked: booleanQuery(req, 'showRevoked', 'show_revoked'),
  }))));
  router.post('/v1/tokens/:id\\:revoke', route('RevokeToken', async (req) =>
    RevokeTokenResponse.toJSON(await methods.revokeToken({ name: `tokens/${String(req.params['id'] ?? '')}` }))));
  router.get('/v1/auditEvents', route('ListAuditEvents', async (req) => ListAuditEventsResponse.toJSON(await methods.listAuditEvents({
    pageSize: pageSizeQuery(req), pageToken: queryString(req, 'pageToken', 'page_token'),
  }))));
  return router;
}
