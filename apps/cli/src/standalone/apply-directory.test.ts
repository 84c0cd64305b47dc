import path from 'node:path';
import type { Pool } from 'pg';
import { createPool, getPool, listTaskTemplates, listWorkflows, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { applyWorkflowFiles } from './apply-directory';

const examples = path.join(__dirname, '..', '..', '..', '..', 'examples');

describe('applyWorkflowFiles (what `skein standalone` applies on start)', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('stores every example: templates and pools first, then every workflow, with no error', async () => {
    const results = await applyWorkflowFiles(pool, examples);
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(results.flatMap((r) => r.pools ?? [])).toEqual([{ name: 'warehouse', slots: 2, created: true }]);
    expect(await getPool(pool, 'warehouse')).toMatchObject({ slots: 2 });
    expect((await listTaskTemplates(pool, { limit: 10 })).map((t) => t.name)).toEqual(['elixir', 'python', 'rust']);
    const workflows = (await listWorkflows(pool, { limit: 100 })).map((w) => w.id);
    expect(workflows).toEqual(expect.arrayContaining(['diamond', 'etl', 'hello', 'nightly', 'polyglot', 'rules', 'warehouse-load']));
    // Applying again changes nothing.
    const again = await applyWorkflowFiles(pool, examples);
    expect(again.flatMap((r) => r.workflows).every((w) => !w.created)).toBe(true);
  });
});
