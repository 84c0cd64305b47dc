/**
 * The TokenService methods (admin only, see access-policy.ts): create a token (its secret is in the
 * response and nowhere else), list, revoke.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { z } from 'zod';
import {
  TokenRole, type CreateTokenRequest, type CreateTokenResponse, type ListTokensRequest, type ListTokensResponse, type RevokeTokenRequest,
  type RevokeTokenResponse, type Token,
} from '@skein/proto';
import { listApiTokens, revokeApiToken, type ApiTokenRecord, type TokenRoleName } from '@skein/store';
import type { ApiContext } from './api-context';
import { ApiError, invalidArgument } from './errors';
import { decodePageToken, encodePageToken, LIST_PAGE, pageSize } from './pagination';
import { createApiToken } from './token-secrets';

export interface TokenMethods {
  createToken(request: CreateTokenRequest): Promise<CreateTokenResponse>;
  listTokens(request: ListTokensRequest): Promise<ListTokensResponse>;
  revokeToken(request: RevokeTokenRequest): Promise<RevokeTokenResponse>;
}

const DISPLAY_NAME = /^[A-Za-z0-9._-]{1,63}$/;

const ROLE_OF: Partial<Record<TokenRole, TokenRoleName>> = {
  [TokenRole.TOKEN_ROLE_VIEWER]: 'viewer',
  [TokenRole.TOKEN_ROLE_OPERATOR]: 'operator',
  [TokenRole.TOKEN_ROLE_ADMIN]: 'admin',
};

const PROTO_ROLE: Record<TokenRoleName, TokenRole> = {
  viewer: TokenRole.TOKEN_ROLE_VIEWER,
  operator: TokenRole.TOKEN_ROLE_OPERATOR,
  admin: TokenRole.TOKEN_ROLE_ADMIN,
};

const tokenCursor = z.object({ k: z.literal('tokens'), revoked: z.boolean(), time: z.string().datetime({ offset: true }), id: z.string().min(1) }).strict();

export function toToken(record: ApiTokenRecord): Token {
  return {
    name: `tokens/${record.id}`, tokenId: record.id, displayName: record.displayName, role: PROTO_ROLE[record.role],
    createTime: record.createTime, revokeTime: record.revokeTime, secretPrefix: record.secretPrefix,
  };
}

function parseTokenName(value: string): string {
  const match = /^tokens\/([0-9a-z]{26})$/.exec(value);
  if (!match?.[1]) throw invalidArgument('name', `${JSON.stringify(value.slice(0, 100))} is not a resource name of the form \`tokens/{token}\``);
  return match[1];
}

export function createTokenMethods(ctx: ApiContext): TokenMethods {
  return {
    async createToken(request) {
      if (!DISPLAY_NAME.test(request.displayName)) {
        throw invalidArgument('display_name', 'must be 1 to 63 characters of letters, digits, `.`, `_` and `-`');
      }
      const role = ROLE_OF[request.role];
      if (!role) throw invalidArgument('role', 'must be TOKEN_ROLE_VIEWER, TOKEN_ROLE_OPERATOR or TOKEN_ROLE_ADMIN');
      const { token, secret } = await createApiToken(ctx.pool, request.displayName, role);
      return { token: toToken(token), secret };
    },

    async listTokens(request) {
      const limit = pageSize(request.pageSize, LIST_PAGE);
      const cursor = decodePageToken(request.pageToken, tokenCursor);
      if (cursor && cursor.revoked !== request.showRevoked) {
        throw invalidArgument('page_token', 'invalid page_token: it belongs to a listing with a different show_revoked');
      }
      const records = await listApiTokens(ctx.pool, {
        limit: limit + 1, showRevoked: request.showRevoked, after: cursor && { time: new Date(cursor.time), id: cursor.id },
      });
      const page = records.slice(0, limit);
      const last = page[page.length - 1];
      const nextPageToken = records.length > limit && last
        ? encodePageToken({ k: 'tokens', revoked: request.showRevoked, time: last.createTime.toISOString(), id: last.id })
        : '';
      return { tokens: page.map(toToken), nextPageToken };
    },

    async revokeToken(request) {
      const id = parseTokenName(request.name);
      const record = await revokeApiToken(ctx.pool, id);
      if (!record) throw new ApiError(GrpcStatus.NOT_FOUND, 'TOKEN_NOT_FOUND', `token ${request.name} not found`, { metadata: { resource: request.name } });
      return { token: toToken(record) };
    },
  };
}
