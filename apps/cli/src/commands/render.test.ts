import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import pino from 'pino';
import { parse } from 'yaml';
import { createApiService, createApiToken, type ApiService } from '@skein/api';
import { createTestScheduler, type TestScheduler } from '@skein/api/testing';
import { createPool, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { runCli } from '../cli';

const examples = path.join(__dirname, '..', '..', '..', '..', 'examples');

interface RenderedJob {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { template: { spec: { containers: Array<{ image: string; command: string[]; args?: string[] }> } } };
}

describe('skein apply (templates) and skein render', () => {
  let db: TestDatabase;
  let pool: Pool;
  let api: ApiService;
  let scheduler: TestScheduler;
  let server: string;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url, { max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool);
    scheduler = createTestScheduler(pool);
    api = createApiService({ pool, runs: scheduler.runs, logs: scheduler.logs, logger: pino({ level: 'silent' }), grpcPort: 0, httpPort: 0, reflection: false });
    server = `127.0.0.1:${(await api.start()).grpcPort}`;
    token = (await createApiToken(pool, 'cli-test', 'admin')).secret;
  });

  afterAll(async () => {
    await scheduler.drain();
    await api.stop();
    await pool.end();
    await db.drop();
  });

  async function skein(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: { SKEIN_TOKEN: token } };
    const code = await runCli(['node', 'skein', '--server', server, ...args], io);
    return { code, out: out.join(''), err: err.join('') };
  }

  it('renders from the files alone, with no server needed', async () => {
    const res = await skein(['render', '-f', path.join(examples, 'templates'), '-f', path.join(examples, 'polyglot.yaml'), '--task', 'ingest', '-p', 'season=2031']);
    expect(res).toMatchObject({ code: 0, err: '' });
    const job = parse(res.out) as RenderedJob;
    expect(job.metadata).toMatchObject({ namespace: 'data', labels: { language: 'elixir', 'skein.dev/task': 'ingest' } });
    expect(job.spec.template.spec.containers[0]).toMatchObject({ image: 'ghcr.io/acme/elixir-tasks:1.17-otp27', command: ['mix', 'run', 'priv/ingest.exs'], args: ['--season', '2031'] });
  });

  it('validates a workflow against the templates of the other files given', async () => {
    const alone = await skein(['validate', '-f', path.join(examples, 'polyglot.yaml')]);
    expect(alone.code).toBe(1);
    expect(alone.err).toMatch(/polyglot\.yaml:\d+:\d+: spec\.tasks\[0\]\.template: unknown template "elixir"/);
    const together = await skein(['validate', '-f', path.join(examples, 'templates'), '-f', path.join(examples, 'polyglot.yaml')]);
    expect(together).toMatchObject({ code: 0, err: '' });
  });

  it('applies templates before workflows, then renders with the stored templates', async () => {
    // The workflow file comes first on the command line: its templates are still applied before it.
    const applied = await skein(['apply', '-f', path.join(examples, 'polyglot.yaml'), '-f', path.join(examples, 'templates')]);
    expect(applied).toMatchObject({ code: 0, err: '' });
    expect(applied.out.trim().split('\n')).toEqual([
      'template elixir: created version 1',
      'template python: created version 1',
      'template rust: created version 1',
      'workflow polyglot: created version 1',
    ]);
    const res = await skein(['render', '-f', path.join(examples, 'polyglot.yaml'), '--task', 'score']);
    expect(res).toMatchObject({ code: 0, err: '' });
    const job = parse(res.out) as RenderedJob;
    expect(job.spec.template.spec.containers[0]).toMatchObject({ image: 'ghcr.io/acme/rust-tasks:1.82', command: ['/usr/local/bin/score'] });
    expect(readFileSync(path.join(examples, 'polyglot.yaml'), 'utf8')).toContain('template: rust');
  });

  it('names an unknown task', async () => {
    const res = await skein(['render', '-f', path.join(examples, 'templates'), '-f', path.join(examples, 'polyglot.yaml'), '--task', 'nope']);
    expect(res.code).toBe(1);
    expect(res.err).toContain('workflow "polyglot" has no task "nope" (its tasks: ingest, score, report)');
  });
});
