import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** A database created for one test file and dropped after it. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env['SKEIN_TEST_DATABASE_URL'];
  if (!url) throw new Error('SKEIN_TEST_DATABASE_URL is not set: run tests through jest (its global setup starts PostgreSQL) or set it to a server you own');
  return url;
}

/** Creates a fresh, empty database on the test server (or on `server`, a URL of any database there). */
export async function createTestDatabase(prefix = 'skein_test', server?: string): Promise<TestDatabase> {
  const admin = new URL(server ?? serverUrl());
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
