import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { templateDigest, type TaskTemplateSpec } from '@skein/domain';
import { applyTaskTemplate, createPool, getTaskTemplate, getTaskTemplates, listTaskTemplates, migrate } from './index';

const template = (name: string, image: string): TaskTemplateSpec => ({
  apiVersion: 'skein.dev/v1', kind: 'TaskTemplate', metadata: { name, labels: { language: name } },
  spec: { image, kubernetes: { resources: { limits: { memory: '1Gi' } } } },
});

describe('task templates in the store', () => {
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

  it('versions a template only when its spec changes', async () => {
    const v1 = template('elixir', 'elixir:1.17');
    const first = await applyTaskTemplate(pool, v1, templateDigest(v1));
    expect(first).toMatchObject({ created: true, template: { name: 'elixir', currentVersion: 1, spec: v1, labels: { language: 'elixir' } } });
    expect((await applyTaskTemplate(pool, v1, templateDigest(v1))).created).toBe(false);
    const v2 = template('elixir', 'elixir:1.18');
    const second = await applyTaskTemplate(pool, v2, templateDigest(v2));
    expect(second.template).toMatchObject({ currentVersion: 2, spec: v2, digest: templateDigest(v2) });
    expect((await getTaskTemplate(pool, 'elixir'))?.spec.spec.image).toBe('elixir:1.18');
    expect(await getTaskTemplate(pool, 'cobol')).toBeUndefined();
  });

  it('lists by name and fetches several at once', async () => {
    for (const name of ['rust', 'python']) {
      const spec = template(name, `${name}:1`);
      await applyTaskTemplate(pool, spec, templateDigest(spec));
    }
    expect((await listTaskTemplates(pool, { limit: 10 })).map((t) => t.name)).toEqual(['elixir', 'python', 'rust']);
    expect((await listTaskTemplates(pool, { limit: 1, afterName: 'elixir' })).map((t) => t.name)).toEqual(['python']);
    expect([...(await getTaskTemplates(pool, ['rust', 'nope', 'elixir'])).keys()].sort()).toEqual(['elixir', 'rust']);
  });
});
