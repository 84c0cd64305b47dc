import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import type { Pool } from 'pg';
import pino from 'pino';
import { bearerTokenInterceptor } from '@skein/config';
import { WorkflowServiceClient } from '@skein/proto';
import { createPool, migrate } from '@skein/store';
import { createTestCertificates, createTestDatabase, type TestCertificates, type TestDatabase } from '@skein/testing';
import { createApiService, type ApiService, type ApiTlsOptions } from './api-service';
import { call } from './test-harness';
import { createTestScheduler, type TestScheduler } from './test-scheduler';
import { createApiToken } from './token-secrets';

/** GET over HTTPS with the given trust and client certificate: the status, or `refused` when the TLS connection failed. */
function httpsGet(port: number, path: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }, token?: string): Promise<number | 'refused'> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1', port, path, method: 'GET', servername: 'localhost', ...tls, timeout: 10_000,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve('refused'));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

describe('the api over TLS', () => {
  let certs: TestCertificates;
  let db: TestDatabase;
  let pool: Pool;
  let scheduler: TestScheduler;
  let token: string;
  const services: ApiService[] = [];
  const clients: WorkflowServiceClient[] = [];
  const pem = (file: string) => readFileSync(file);

  async function serve(tls: ApiTlsOptions): Promise<{ grpcPort: number; httpPort: number }> {
    const service = createApiService({ pool, runs: scheduler.runs, logs: scheduler.logs, logger: pino({ level: 'silent' }), grpcPort: 0, httpPort: 0, reflection: false, tls });
    services.push(service);
    return service.start();
  }

  /** ListWorkflows over gRPC with these credentials (and the token unless told otherwise): the error, or undefined. */
  async function listWith(port: number, creds: ChannelCredentials, withToken = true): Promise<ServiceError | undefined> {
    // The certificate names localhost; the channel connects to 127.0.0.1.
    const client = new WorkflowServiceClient(`127.0.0.1:${port}`, creds, {
      'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost',
      ...(withToken ? { interceptors: [bearerTokenInterceptor(token)] } : {}),
    });
    clients.push(client);
    try {
      await call(client.listWorkflows.bind(client), { pageSize: 0, pageToken: '', filter: '' });
      return undefined;
    } catch (err) {
      return err as ServiceError;
    }
  }

  beforeAll(async () => {
    certs = createTestCertificates();
    db = await createTestDatabase();
    pool = createPool(db.url, { max: 4 });
    pool.on('error', () => undefined);
    await migrate(pool);
    scheduler = createTestScheduler(pool);
    token = (await createApiToken(pool, 'tls-test', 'viewer')).secret;
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const service of services) await service.stop();
    await scheduler.drain();
    await pool.end();
    await db.drop();
    certs.remove();
  });

  it('serves gRPC and HTTPS over TLS, and nothing in plaintext', async () => {
    const { grpcPort, httpPort } = await serve({ certFile: certs.serverCertFile, keyFile: certs.serverKeyFile });
    expect(await listWith(grpcPort, credentials.createSsl(pem(certs.caFile)))).toBeUndefined();
    // Still an API token on top of TLS.
    expect((await listWith(grpcPort, credentials.createSsl(pem(certs.caFile)), false))?.code).toBe(status.UNAUTHENTICATED);
    expect((await listWith(grpcPort, credentials.createInsecure()))?.code).toBe(status.UNAVAILABLE);
    expect(await httpsGet(httpPort, '/v1/workflows', { ca: pem(certs.caFile) }, token)).toBe(200);
    expect(await httpsGet(httpPort, '/v1/workflows', { ca: pem(certs.caFile) })).toBe(401);
    // A client that does not trust the server's CA refuses it.
    expect(await httpsGet(httpPort, '/healthz', { ca: pem(certs.strangerCertFile) })).toBe('refused');
  });

  it('requires a client certificate signed by the client CA when one is configured (mutual TLS)', async () => {
    const { grpcPort, httpPort } = await serve({ certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: certs.caFile });
    const ca = pem(certs.caFile);
    expect(await listWith(grpcPort, credentials.createSsl(ca, pem(certs.clientKeyFile), pem(certs.clientCertFile)))).toBeUndefined();
    expect((await listWith(grpcPort, credentials.createSsl(ca)))?.code).toBe(status.UNAVAILABLE);
    expect((await listWith(grpcPort, credentials.createSsl(ca, pem(certs.strangerKeyFile), pem(certs.strangerCertFile))))?.code).toBe(status.UNAVAILABLE);

    expect(await httpsGet(httpPort, '/v1/workflows', { ca, cert: pem(certs.clientCertFile), key: pem(certs.clientKeyFile) }, token)).toBe(200);
    expect(await httpsGet(httpPort, '/healthz', { ca }, token)).toBe('refused');
    expect(await httpsGet(httpPort, '/healthz', { ca, cert: pem(certs.strangerCertFile), key: pem(certs.strangerKeyFile) }, token)).toBe('refused');
  });
});
