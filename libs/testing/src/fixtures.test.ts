import { Client } from 'pg';
import { createTestDatabase } from './test-database';
import { startNatsServer } from './nats-server';
import net from 'node:net';

describe('test fixtures', () => {
  it('creates a fresh database on the run\'s PostgreSQL and drops it', async () => {
    const db = await createTestDatabase();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ current_database: string }>('SELECT current_database()');
    expect(rows[0]?.current_database).toBe(db.name);
    await client.end();
    await db.drop();
  });

  it('starts nats-server on a free port and stops it', async () => {
    const nats = await startNatsServer();
    const reachable = await new Promise<boolean>((resolve) => {
      const s = net.connect(nats.port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    expect(reachable).toBe(true);
    await nats.stop();
  });
});
