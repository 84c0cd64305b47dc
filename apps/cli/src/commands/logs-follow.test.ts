import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createApiToken } from '@skein/api';
import { createInProcessBus } from '@skein/bus';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { runCli } from '../cli';
import { startSkein, type RunningSkein } from '../standalone/start-skein';

/** `skein logs --follow` against the four services in one process, running real local processes. */
describe('skein logs --follow', () => {
  let db: TestDatabase;
  let skeinServer: RunningSkein;
  let server: string;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(path.join(os.tmpdir(), 'skein-follow-'));
    skeinServer = await startSkein({ databaseUrl: db.url, bus: createInProcessBus(), logger: pino({ enabled: false }), grpcPort: 0, httpPort: 0 });
    server = `127.0.0.1:${skeinServer.grpcPort}`;
    token = (await createApiToken(skeinServer.pool, 'cli-test', 'admin')).secret;
  });

  afterAll(async () => {
    await skeinServer.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function skein(args: string[], onOut?: (text: string) => void): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: { write: (s: string) => { out.push(s); onOut?.(out.join('')); } },
      stderr: { write: (s: string) => err.push(s) },
      env: { SKEIN_TOKEN: token },
    };
    return runCli(['node', 'skein', '--server', server, ...args], io).then((code) => ({ code, out: out.join(''), err: err.join('') }));
  }

  /** A workflow whose one task prints two lines, waits for `gate` to exist, then prints a third and exits with `exit`. */
  async function applyGated(name: string, gate: string, exit: number): Promise<void> {
    const script = `echo one; echo two; while [ ! -f '${gate}' ]; do sleep 0.05; done; echo three; exit ${exit}`;
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(file, [
      'apiVersion: skein.dev/v1', 'kind: Workflow', 'metadata:', `  name: ${name}`, 'spec:', '  tasks:',
      '    - name: work', `      command: ["sh", "-c", ${JSON.stringify(script)}]`, '',
    ].join('\n'));
    expect((await skein(['apply', '-f', file])).code).toBe(0);
  }

  it('prints lines while the task runs and exits 0 when it succeeded', async () => {
    const gate = path.join(dir, 'gate-ok');
    await applyGated('follow-ok', gate, 0);
    const runId = (await skein(['trigger', 'follow-ok'])).out.trim();
    let sawTwoWhileRunning = false;
    const result = await skein(['logs', runId, 'work', '--follow'], (text) => {
      // The task is still blocked on the gate: "two" arrived live. Now let it finish.
      if (!sawTwoWhileRunning && text.includes('two\n')) {
        sawTwoWhileRunning = !existsSync(gate);
        writeFileSync(gate, '');
      }
    });
    expect(sawTwoWhileRunning).toBe(true);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const userLines = result.out.split('\n').filter((l) => l !== '' && !l.startsWith('[skein] '));
    expect(userLines).toEqual(['one', 'two', 'three']);
    expect(result.out).toMatch(/^\[skein\] /m);

    // --since-seq resumes after a line; without --follow it prints what is stored.
    const all = (await skein(['logs', runId, 'work'])).out.split('\n').filter((l) => l !== '');
    const tail = await skein(['logs', runId, 'work', '--follow', '--since-seq', '2']);
    expect(tail.out.split('\n').filter((l) => l !== '')).toEqual(all.slice(2));
  }, 60_000);

  it('exits 1 when the attempt failed', async () => {
    const gate = path.join(dir, 'gate-fail');
    writeFileSync(gate, '');
    await applyGated('follow-fail', gate, 3);
    const runId = (await skein(['trigger', 'follow-fail'])).out.trim();
    const result = await skein(['logs', runId, 'work', '--follow', '-o', 'json']);
    expect(result.code).toBe(1);
    const entries = result.out.trim().split('\n').map((l) => JSON.parse(l) as { line: string; stream: string });
    expect(entries.filter((e) => e.stream !== 'LOG_STREAM_SYSTEM').map((e) => e.line)).toEqual(['one', 'two', 'three']);
  }, 60_000);
});
