/**
 * The standalone's admin token: created on first start and kept in `<data-dir>/admin-token` (mode
 * 0600), which the CLI on the same machine reads. Only its path is ever printed or logged.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { createApiToken, hashSecret, isWellFormedSecret } from '@skein/api';
import { findActiveApiToken } from '@skein/store';
import { ADMIN_TOKEN_FILE } from '../connection';

/** The token file of a data directory, its token created when it has none that still works. */
export async function ensureAdminTokenFile(pool: Pool, dataDir: string): Promise<{ file: string; created: boolean }> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    const token = isWellFormedSecret(secret) ? await findActiveApiToken(pool, hashSecret(secret)) : undefined;
    if (token?.role === 'admin') {
      chmodSync(file, 0o600);
      return { file, created: false };
    }
  }
  // None yet, or it was revoked (or the database was reset): a new one replaces it.
  const { secret } = await createApiToken(pool, 'standalone-admin', 'admin');
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${secret}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return { file, created: true };
}
