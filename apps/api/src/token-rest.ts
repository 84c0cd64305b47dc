/**
 * The TokenService and AuditService over REST (mounted by rest-router.ts):
 *   POST /v1/tokens              {displayName, role}
 *   GET  /v1/tokens              ?pageSize&pageToken&showRevoked
 *   POST /v1/tokens/{id}:revoke
 *   GET  /v1/auditEvents         ?pageSize&pageToken
 */
import express, { type Request } from 'express';
import { CreateTokenRequest, CreateTokenResponse, ListAuditEventsResponse, ListTokensResponse, RevokeTokenResponse } from '@skein/proto';
import type { AuditMethods } from './audit-methods';
import { invalidArgument } from './errors';
import type { RestRoute } from './template-rest';
import type { TokenMethods } from './token-methods';

function body(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument('body', 'must be a JSON object');
  return value as Record<string, unknown>;
}

function query(req: Request, jsonName: string, protoName: string): string {
  const value = req.query[jsonName] ?? req.query[protoName];
  if (value === undefined) return '';
  if (typeof value !== 'string') throw invalidArgument(protoName, 'must be given once');
  return value;
}

function pageSizeQuery(req: Request): number {
  const value = query(req, 'pageSize', 'page_size');
  if (value !== '' && !/^\d{1,9}$/.test(value)) throw invalidArgument('page_size', 'must be a non-negative integer');
  return Number(value || 0);
}

function booleanQuery(req: Request, jsonName: string, protoName: string): boolean {
  const value = query(req, jsonName, protoName);
  if (value !== '' && value !== 'true' && value !== 'false') throw invalidArgument(protoName, 'must be true or false');
  return value === 'true';
}

export function tokenRoutes(methods: TokenMethods & AuditMethods, route: RestRoute): express.Router {
  const router = express.Router();
  router.post('/v1/tokens', route('CreateToken', async (req) => {
    const fields = body(req);
    if (fields['role'] !== undefined && typeof fields['role'] !== 'string' && typeof fields['role'] !== 'number') throw invalidArgument('role', 'must be a role name');
    return CreateTokenResponse.toJSON(await methods.createToken(CreateTokenRequest.fromJSON(fields)));
  }));
  router.get('/v1/tokens', route('ListTokens', async (req) => ListTokensResponse.toJSON(await methods.listTokens({
    pageSize: pageSizeQuery(req), pageToken: query(req, 'pageToken', 'page_token'), showRevoked: booleanQuery(req, 'showRevoked', 'show_revoked'),
  }))));
  router.post('/v1/tokens/:id\\:revoke', route('RevokeToken', async (req) =>
    RevokeTokenResponse.toJSON(await methods.revokeToken({ name: `tokens/${String(req.params['id'] ?? '')}` }))));
  router.get('/v1/auditEvents', route('ListAuditEvents', async (req) => ListAuditEventsResponse.toJSON(await methods.listAuditEvents({
    pageSize: pageSizeQuery(req), pageToken: query(req, 'pageToken', 'page_token'),
  }))));
  return router;
}
