/**
 * API token secrets: `skn_` and 43 base64url characters (256 random bits). Only their SHA-256 is
 * stored; a high-entropy secret needs no salt or slow hash, since guessing one is hopeless anyway.
 */
import { createHash, randomBytes } from 'node:crypto';
import { newId } from '@skein/domain';
import { insertApiToken, insertApiTokenIfAbsent, type ApiTokenRecord, type Queryable, type TokenRoleName } from '@skein/store';

/** What every secret starts with, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'skn_';

/** A secret as the API accepts it: the prefix and 32 to 128 base64url characters. */
const SECRET_PATTERN = /^skn_[A-Za-z0-9_-]{32,128}$/;

export function isWellFormedSecret(secret: string): boolean {
  return SECRET_PATTERN.test(secret);
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function generateSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** The part of a secret kept in clear to tell tokens apart: the prefix and 4 characters. */
function secretPrefixOf(secret: string): string {
  return secret.slice(0, TOKEN_PREFIX.length + 4);
}

/** Creates a token and returns it with its secret (which is stored nowhere). */
export async function createApiToken(db: Queryable, displayName: string, role: TokenRoleName): Promise<{ token: ApiTokenRecord; secret: string }> {
  const secret = generateSecret();
  const token = await insertApiToken(db, { id: newId(), displayName, role, secretHash: hashSecret(secret), secretPrefix: secretPrefixOf(secret) });
  return { token, secret };
}

/**
 * Registers a secret chosen by the operator (the api's `SKEIN_ADMIN_TOKEN`) as an admin token, once:
 * how the first admin gets in when there is no standalone to create one. Revoking it sticks.
 */
export async function registerBootstrapToken(db: Queryable, secret: string): Promise<void> {
  if (!isWellFormedSecret(secret)) {
    throw new Error('the bootstrap admin token must be `skn_` followed by 32 to 128 characters of A-Z a-z 0-9 _ - (e.g. skn_$(openssl rand -hex 32))');
  }
  await insertApiTokenIfAbsent(db, { id: newId(), displayName: 'bootstrap-admin', role: 'admin', secretHash: hashSecret(secret), secretPrefix: secretPrefixOf(secret) });
}
