import { startEmbeddedPostgres } from './embedded-postgres';

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
