/**
 * Authentication (a bearer token → who is calling), authorisation (may they call this method) and
 * the audit log, shared by the gRPC interceptor and the REST middleware. A call without a valid token
 * is refused before anything is read or written, the audit log included.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { findActiveApiToken, insertAuditEvent } from '@skein/store';
import { roleAllows, type MethodRule, type Role } from './access-policy';
import { ApiError } from './errors';
import { hashSecret, isWellFormedSecret } from './token-secrets';

/** The caller of an authenticated call. */
export interface Principal {
  readonly tokenId: string;
  readonly displayName: string;
  readonly role: Role;
}

/** One mutating call, as the audit log records it. */
export interface AuditEntry {
  readonly principal: Principal;
  readonly method: string;
  readonly resource: string;
  /** A gRPC code name, e.g. `OK`. */
  readonly outcome: string;
  readonly transport: 'grpc' | 'http';
}

export interface AccessControl {
  /** The caller of an `authorization` header/metadata value; UNAUTHENTICATED when missing, malformed, unknown or revoked. */
  authenticate(authorization: unknown): Promise<Principal>;
  /** PERMISSION_DENIED unless the caller's role allows the method. */
  authorize(principal: Principal, method: string, rule: MethodRule): void;
  /** Writes an audit event; a failure is logged, never thrown (the call it records has already happened). */
  audit(entry: AuditEntry): Promise<void>;
}

/** The header (HTTP) and metadata key (gRPC) of the bearer token. */
export const AUTHORIZATION_HEADER = 'authorization';

/** The longest resource name the audit log keeps; a longer one (only bad input has one) is cut. */
const MAX_AUDIT_RESOURCE_CHARS = 512;

function unauthenticated(reason: 'TOKEN_MISSING' | 'TOKEN_INVALID', message: string): ApiError {
  return new ApiError(GrpcStatus.UNAUTHENTICATED, reason, message);
}

/** The secret of `Bearer <secret>`, or undefined. */
function bearerSecret(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return match?.[1];
}

export function createAccessControl(deps: { pool: Pool; logger: Logger }): AccessControl {
  return {
    async authenticate(authorization) {
      if (authorization === undefined || authorization === '') {
        throw unauthenticated('TOKEN_MISSING', 'this call needs an API token: send `authorization: Bearer <token>` (see `skein tokens create`)');
      }
      const secret = bearerSecret(authorization);
      // Malformed secrets never reach the database; unknown and revoked ones are told apart from nothing.
      const token = secret !== undefined && isWellFormedSecret(secret) ? await findActiveApiToken(deps.pool, hashSecret(secret)) : undefined;
      if (!token) throw unauthenticated('TOKEN_INVALID', 'the API token is not valid: it is malformed, unknown or revoked');
      return { tokenId: token.id, displayName: token.displayName, role: token.role };
    },

    authorize(principal, method, rule) {
      if (roleAllows(principal.role, rule.access)) return;
      throw new ApiError(GrpcStatus.PERMISSION_DENIED, 'PERMISSION_DENIED',
        `${method} needs the ${rule.access} role; token ${principal.displayName} has ${principal.role}`,
        { metadata: { method, requiredRole: rule.access, role: principal.role } });
    },

    async audit(entry) {
      try {
        await insertAuditEvent(deps.pool, {
          tokenId: entry.principal.tokenId, tokenDisplayName: entry.principal.displayName, method: entry.method,
          resource: entry.resource.slice(0, MAX_AUDIT_RESOURCE_CHARS), outcome: entry.outcome, transport: entry.transport,
        });
      } catch (err) {
        deps.logger.error({ err, method: entry.method, tokenId: entry.principal.tokenId }, 'could not write an audit event');
      }
    },
  };
}

/** The name of a gRPC status code (`OK`, `NOT_FOUND`, ...). */
export function codeName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string | undefined>)[code] ?? `CODE_${code}`;
}

function nameOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const name = (value as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * The resource a call was about, for the audit log: what its response names (a created run, an
 * applied workflow), else the request's `name`, else its `parent`.
 */
export function auditResourceOf(request: unknown, response: unknown): string {
  if (typeof response === 'object' && response !== null) {
    for (const value of Object.values(response)) {
      const name = nameOf(value);
      if (name) return name;
    }
  }
  const fromRequest = nameOf(request);
  if (fromRequest) return fromRequest;
  const parent = typeof request === 'object' && request !== null ? (request as { parent?: unknown }).parent : undefined;
  return typeof parent === 'string' ? parent : '';
}
