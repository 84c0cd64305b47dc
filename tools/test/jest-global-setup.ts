// Jest loads global setup outside its module map, so the store's file is imported by path, not alias.
import { startEmbeddedPostgres } from '../../libs/store/src/embedded-postgres';

/**
 * One PostgreSQL server per jest run (tests make a fresh database each: see createTestDatabase).
 * SKEIN_TEST_DATABASE_URL points the run at an existing server instead.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env['SKEIN_TEST_DATABASE_URL']) return;
  const server = await startEmbeddedPostgres();
  process.env['SKEIN_TEST_DATABASE_URL'] = server.url;
  (globalThis as { __skeinPostgres?: { stop(): Promise<void> } }).__skeinPostgres = server;
}
