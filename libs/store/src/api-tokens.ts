/**
 * API tokens. Only the SHA-256 of a secret is stored and looked up; the secret itself never reaches
 * the database. Revoking keeps the row so the audit log can still name the token.
 */
import type { Queryable } from './db';

export type TokenRoleName = 'viewer' | 'operator' | 'admin';

export interface ApiTokenRecord {
  readonly id: string;
  readonly displayName: string;
  readonly role: TokenRoleName;
  readonly secretPrefix: string;
  readonly createTime: Date;
  readonly revokeTime?: Date;
}

export interface NewApiToken {
  readonly id: string;
  readonly displayName: string;
  readonly role: TokenRoleName;
  readonly secretHash: Buffer;
  readonly secretPrefix: string;
}

interface TokenRow {
  id: string; display_name: string; role: TokenRoleName; secret_prefix: string; create_time: Date; revoke_time: Date | null;
}

const columns = 'id, display_name, role, secret_prefix, create_time, revoke_time';

function toRecord(row: TokenRow): ApiTokenRecord {
  return {
    id: row.id, displayName: row.display_name, role: row.role, secretPrefix: row.secret_prefix, createTime: row.create_time,
    ...(row.revoke_time ? { revokeTime: row.revoke_time } : {}),
  };
}

export async function insertApiToken(db: Queryable, token: NewApiToken): Promise<ApiTokenRecord> {
  const { rows } = await db.query<TokenRow>(
    `INSERT INTO api_tokens (id, display_name, role, secret_hash, secret_prefix) VALUES ($1, $2, $3, $4, $5) RETURNING ${columns}`,
    [token.id, token.displayName, token.role, token.secretHash, token.secretPrefix]);
  const row = rows[0];
  if (!row) throw new Error('INSERT ... RETURNING returned no row');
  return toRecord(row);
}

/**
 * Inserts a token with this secret hash unless one exists (a bootstrap secret given in the
 * environment is registered once, and stays revoked if an admin revoked it).
 */
export async function insertApiTokenIfAbsent(db: Queryable, token: NewApiToken): Promise<void> {
  await db.query(
    `INSERT INTO api_tokens (id, display_name, role, secret_hash, secret_prefix) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (secret_hash) DO NOTHING`,
    [token.id, token.displayName, token.role, token.secretHash, token.secretPrefix]);
}

/** The unrevoked token with this secret hash (the authentication lookup, on every call). */
export async function findActiveApiToken(db: Queryable, secretHash: Buffer): Promise<ApiTokenRecord | undefined> {
  const { rows } = await db.query<TokenRow>({
    name: 'find-active-api-token',
    text: `SELECT ${columns} FROM api_tokens WHERE secret_hash = $1 AND revoke_time IS NULL`,
    values: [secretHash],
  });
  return rows[0] && toRecord(rows[0]);
}

export async function getApiToken(db: Queryable, id: string): Promise<ApiTokenRecord | undefined> {
  const { rows } = await db.query<TokenRow>(`SELECT ${columns} FROM api_tokens WHERE id = $1`, [id]);
  return rows[0] && toRecord(rows[0]);
}

/** Tokens newest first, after the cursor (exclusive). */
export async function listApiTokens(
  db: Queryable, page: { limit: number; showRevoked: boolean; after?: { time: Date; id: string } },
): Promise<ApiTokenRecord[]> {
  const { rows } = await db.query<TokenRow>(
    `SELECT ${columns} FROM api_tokens
      WHERE ($1 OR revoke_time IS NULL)
        AND ($2::timestamptz IS NULL OR (create_time, id) < ($2, $3))
      ORDER BY create_time DESC, id DESC LIMIT $4`,
    [page.showRevoked, page.after?.time ?? null, page.after?.id ?? null, page.limit]);
  return rows.map(toRecord);
}

/** Revokes a token (keeping its first revoke time); undefined when there is no such token. */
export async function revokeApiToken(db: Queryable, id: string): Promise<ApiTokenRecord | undefined> {
  const { rows } = await db.query<TokenRow>(
    `UPDATE api_tokens SET revoke_time = coalesce(revoke_time, now()) WHERE id = $1 RETURNING ${columns}`, [id]);
  return rows[0] && toRecord(rows[0]);
}
