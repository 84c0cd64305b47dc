import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import pino from 'pino';
import { createApiService, createApiToken, type ApiService } from '@skein/api';
import { createTestScheduler, type TestScheduler } from '@skein/api/testing';
import { createPool, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { runCli } from '../cli';

const WORKFLOW = ['apiVersion: skein.dev/v1', 'kind: Workflow', 'metadata:', '  name: watched', 'spec:', '  tasks:',
  '    - name: extract', '      command: ["echo"]', '    - name: load', '      dependsOn: [extract]', '      command: ["echo"]', ''].join('\n');

describe('skein runs watch, workflows versions|delete, trigger --request-id, runs list filters', () => {
  let db: TestDatabase;
  let pool: Pool;
  let api: ApiService;
  let scheduler: TestScheduler;
  let server: string;
  let dir: string;
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
    dir = mkdtempSync(path.join(os.tmpdir(), 'skein-watch-'));
    writeFileSync(path.join(dir, 'w.yaml'), WORKFLOW);
  });

  afterAll(async () => {
    await scheduler.drain();
    await api.stop();
    await pool.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function skein(args: string[], onOut?: (text: string) => void): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => { out.push(s); onOut?.(out.join('')); } }, stderr: { write: (s: string) => err.push(s) }, env: { SKEIN_TOKEN: token } };
    const code = await runCli(['node', 'skein', '--server', server, ...args], io);
    return { code, out: out.join(''), err: err.join('') };
  }

  it('watches a run to its end, printing each change', async () => {
    expect((await skein(['apply', '-f', path.join(dir, 'w.yaml')])).code).toBe(0);
    const runId = (await skein(['trigger', 'watched'])).out.trim();
    let started = false;
    const watching = skein(['runs', 'watch', runId], (text) => {
      // Move the run along once the snapshot is printed.
      if (started || !text.includes('task load')) return;
      started = true;
      void (async () => {
        await scheduler.startTask(runId, 'extract');
        await scheduler.finishTask(runId, 'extract', { state: 'failed', exitCode: 3 });
        await scheduler.finishRun(runId, 'failed', 'extract failed');
      })();
    });
    const res = await watching;
    expect(res.code).toBe(1);
    expect(res.out).toContain(`run ${runId}  queued`);
    expect(res.out).toMatch(/task extract {2}failed {2}attempt 1 failed exit 3/);
    expect(res.out).toContain(`run ${runId}  failed  extract failed`);
  });

  it('lists versions, filters runs by state, and deletes a workflow', async () => {
    writeFileSync(path.join(dir, 'w.yaml'), WORKFLOW.replace('["echo"]', '["true"]'));
    expect((await skein(['apply', '-f', path.join(dir, 'w.yaml')])).code).toBe(0);
    const versions = await skein(['workflows', 'versions', 'watched']);
    expect(versions.out.split('\n')[1]).toMatch(/^2\s+2\s/);
    expect(versions.out.split('\n')[2]).toMatch(/^1\s+2\s/);

    const first = (await skein(['trigger', 'watched', '--request-id', 'job-1'])).out.trim();
    expect((await skein(['trigger', 'watched', '--request-id', 'job-1'])).out.trim()).toBe(first);
    const failed = await skein(['runs', 'list', '--state', 'failed', '-o', 'json']);
    expect((JSON.parse(failed.out) as { runs: unknown[] }).runs).toHaveLength(1);
    expect((await skein(['runs', 'list', '--state', 'bogus'])).code).not.toBe(0);

    const refused = await skein(['workflows', 'delete', 'watched']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('queued or running');
    await scheduler.finishRun(first, 'cancelled');
    expect(await skein(['workflows', 'delete', 'watched'])).toMatchObject({ code: 0, out: 'workflow watched deleted with its runs\n' });
  });
});
