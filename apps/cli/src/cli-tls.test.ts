import type { Pool } from 'pg';
import pino from 'pino';
import { createApiService, createApiToken, type ApiService } from '@skein/api';
import { createTestScheduler, type TestScheduler } from '@skein/api/testing';
import { createPool, migrate } from '@skein/store';
import { createTestCertificates, createTestDatabase, type TestCertificates, type TestDatabase } from '@skein/testing';
import { runCli } from './cli';

/** The CLI against an api that requires TLS and client certificates. */
describe('skein over mutual TLS', () => {
  let certs: TestCertificates;
  let db: TestDatabase;
  let pool: Pool;
  let scheduler: TestScheduler;
  let api: ApiService;
  let server: string;
  let token: string;

  beforeAll(async () => {
    certs = createTestCertificates();
    db = await createTestDatabase();
    pool = createPool(db.url, { max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool);
    scheduler = createTestScheduler(pool);
    api = createApiService({
      pool, runs: scheduler.runs, logs: scheduler.logs, logger: pino({ level: 'silent' }), grpcPort: 0, httpPort: 0, reflection: false,
      tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: certs.caFile },
    });
    // The server certificate names localhost.
    server = `localhost:${(await api.start()).grpcPort}`;
    token = (await createApiToken(pool, 'tls-cli', 'viewer')).secret;
  });

  afterAll(async () => {
    await api.stop();
    await scheduler.drain();
    await pool.end();
    await db.drop();
    certs.remove();
  });

  async function skein(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: { SKEIN_TOKEN: token, ...env } };
    const code = await runCli(['node', 'skein', '--server', server, ...args], io);
    return { code, out: out.join(''), err: err.join('') };
  }

  it('connects with the CA and a client certificate, from flags or the environment', async () => {
    const flags = ['--ca-file', certs.caFile, '--cert-file', certs.clientCertFile, '--key-file', certs.clientKeyFile];
    expect(await skein(['workflows', 'list', ...flags])).toMatchObject({ code: 0, out: 'no workflows: apply one with `skein apply -f FILE`\n' });
    const env = { SKEIN_CA_FILE: certs.caFile, SKEIN_CERT_FILE: certs.clientCertFile, SKEIN_KEY_FILE: certs.clientKeyFile };
    expect((await skein(['workflows', 'list'], env)).code).toBe(0);
  });

  it('cannot connect without a client certificate, or in plaintext', async () => {
    expect((await skein(['workflows', 'list', '--ca-file', certs.caFile])).err).toMatch(/^skein: cannot reach Skein at localhost:\d+/);
    expect((await skein(['workflows', 'list'])).err).toMatch(/^skein: cannot reach Skein at localhost:\d+/);
    expect((await skein(['workflows', 'list', '--ca-file', certs.caFile, '--cert-file', certs.clientCertFile])).err)
      .toBe('skein: give both --cert-file and --key-file (a client certificate and its key), or neither\n');
  });
});
