import { AuditEvent, Token, TokenRole } from '@skein/proto';
import { CliError } from '../cli-io';
import { collectPages, type CommandContext } from '../command-context';
import { age, json, table, timestamp } from '../format';

/** The roles `--role` takes. */
export const TOKEN_ROLES = ['viewer', 'operator', 'admin'] as const;
export type TokenRoleName = (typeof TOKEN_ROLES)[number];

const PROTO_ROLE: Record<TokenRoleName, TokenRole> = {
  viewer: TokenRole.TOKEN_ROLE_VIEWER, operator: TokenRole.TOKEN_ROLE_OPERATOR, admin: TokenRole.TOKEN_ROLE_ADMIN,
};

function roleName(role: TokenRole): string {
  return (Object.entries(PROTO_ROLE).find(([, value]) => value === role)?.[0]) ?? 'unknown';
}

/** `tokens/ID` from an id or a resource name. */
function tokenNameOf(value: string): string {
  if (value.startsWith('tokens/')) return value;
  if (!/^[0-9a-z]{26}$/.test(value)) throw new CliError(`${JSON.stringify(value)} is not a token id (see \`skein tokens list\`)`);
  return `tokens/${value}`;
}

/** `skein tokens create --name NAME --role ROLE`: prints the secret, the only time anyone sees it. */
export async function createTokenCommand(ctx: CommandContext, options: { name: string; role: TokenRoleName }): Promise<number> {
  const res = await ctx.client().createToken({ displayName: options.name, role: PROTO_ROLE[options.role] });
  if (ctx.output === 'json') {
    ctx.out(json({ token: res.token && Token.toJSON(res.token), secret: res.secret }));
    return 0;
  }
  ctx.err(`created token ${res.token?.tokenId ?? ''} (${options.name}, ${options.role}); its secret is shown only now:`);
  ctx.out(res.secret);
  return 0;
}

/** `skein tokens list [--all]`: tokens newest first, never their secrets. */
export async function listTokensCommand(ctx: CommandContext, options: { all?: boolean }): Promise<number> {
  const tokens = await collectPages(async (pageToken) => {
    const res = await ctx.client().listTokens({ pageSize: 1000, pageToken, showRevoked: options.all === true });
    return { items: res.tokens, nextPageToken: res.nextPageToken };
  });
  if (ctx.output === 'json') {
    ctx.out(json({ tokens: tokens.map((t) => Token.toJSON(t)) }));
    return 0;
  }
  ctx.out(table(['id', 'name', 'role', 'secret', 'created', 'revoked'],
    tokens.map((t) => [t.tokenId, t.displayName, roleName(t.role), `${t.secretPrefix}…`, age(t.createTime), t.revokeTime ? timestamp(t.revokeTime) : '-'])));
  return 0;
}

/** `skein tokens revoke ID`. */
export async function revokeTokenCommand(ctx: CommandContext, token: string): Promise<number> {
  const res = await ctx.client().revokeToken({ name: tokenNameOf(token) });
  if (ctx.output === 'json') ctx.out(json(res.token && Token.toJSON(res.token)));
  else ctx.out(`token ${res.token?.tokenId ?? token} (${res.token?.displayName ?? ''}) revoked`);
  return 0;
}

/** `skein audit [--limit N]`: the audit log, newest first. */
export async function auditCommand(ctx: CommandContext, options: { limit: number }): Promise<number> {
  const events = await collectPages(async (pageToken) => {
    const res = await ctx.client().listAuditEvents({ pageSize: Math.min(options.limit, 1000), pageToken });
    return { items: res.auditEvents, nextPageToken: res.nextPageToken };
  }, options.limit);
  if (ctx.output === 'json') {
    ctx.out(json({ auditEvents: events.map((e) => AuditEvent.toJSON(e)) }));
    return 0;
  }
  ctx.out(table(['time', 'token', 'method', 'resource', 'outcome', 'via'],
    events.map((e) => [timestamp(e.time), e.tokenDisplayName, e.method.replace(/^skein\.v1\./, ''), e.resource || '-', e.outcome, e.transport])));
  return 0;
}
