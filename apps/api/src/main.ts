import pino from 'pino';
import { z } from 'zod';
import { fields, loadConfig, Shutdown } from '@skein/config';
import { createLogCollectorClient } from '@skein/log-collector';
import { createSchedulerClient } from '@skein/scheduler';
import { createPool, migrate } from '@skein/store';
import { startTelemetry } from '@skein/telemetry';
import { createApiService } from './api-service';
import { registerBootstrapToken } from './token-secrets';

const schema = z.object({
  DATABASE_URL: fields.databaseUrl,
  API_HOST: fields.host,
  GRPC_PORT: fields.port(7070),
  HTTP_PORT: fields.port(8080),
  // Any scheduler replica can serve: several, as a gRPC target (`dns:///...`, `ipv4:a:p,b:p`).
  SCHEDULER_ADDRESS: fields.target('127.0.0.1:7071'),
  LOG_COLLECTOR_ADDRESS: fields.address('127.0.0.1:7072'),
  /** A TailLogs / WatchRun client that takes nothing for this long is dropped (RESOURCE_EXHAUSTED). */
  API_STREAM_STALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  LOG_LEVEL: fields.logLevel,
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  SKEIN_INTERNAL_TOKEN: fields.internalToken,
  /** An admin token's secret registered at start (how the first admin gets in); see docs/security.md. */
  SKEIN_ADMIN_TOKEN: z.string().optional(),
  /** PEM files: serve gRPC and HTTP over TLS (both cert and key), and require client certificates (client CA). */
  API_TLS_CERT_FILE: z.string().min(1).optional(),
  API_TLS_KEY_FILE: z.string().min(1).optional(),
  API_TLS_CLIENT_CA_FILE: z.string().min(1).optional(),
}).refine((c) => Boolean(c.API_TLS_CERT_FILE) === Boolean(c.API_TLS_KEY_FILE), {
  message: 'give both API_TLS_CERT_FILE and API_TLS_KEY_FILE, or neither', path: ['API_TLS_CERT_FILE'],
}).refine((c) => !c.API_TLS_CLIENT_CA_FILE || c.API_TLS_CERT_FILE, {
  message: 'API_TLS_CLIENT_CA_FILE (mutual TLS) needs API_TLS_CERT_FILE and API_TLS_KEY_FILE', path: ['API_TLS_CLIENT_CA_FILE'],
});

async function main(): Promise<number> {
  const config = loadConfig(schema, process.env, 'api');
  const logger = pino({ name: 'api', level: config.LOG_LEVEL });
  const telemetry = await startTelemetry({ serviceName: 'skein-api', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const pool = createPool(config.DATABASE_URL, { max: 10, applicationName: 'skein-api', onIdleError: (err) => logger.warn({ err }, 'idle PostgreSQL connection lost') });
  await migrate(pool);
  if (config.SKEIN_ADMIN_TOKEN) await registerBootstrapToken(pool, config.SKEIN_ADMIN_TOKEN);
  const runs = createSchedulerClient({ address: config.SCHEDULER_ADDRESS, internalToken: config.SKEIN_INTERNAL_TOKEN });
  const logs = createLogCollectorClient({ address: config.LOG_COLLECTOR_ADDRESS, internalToken: config.SKEIN_INTERNAL_TOKEN });
  const tls = config.API_TLS_CERT_FILE && config.API_TLS_KEY_FILE
    ? { certFile: config.API_TLS_CERT_FILE, keyFile: config.API_TLS_KEY_FILE, clientCaFile: config.API_TLS_CLIENT_CA_FILE }
    : undefined;
  const api = createApiService({
    pool, runs, logs, logger, host: config.API_HOST, grpcPort: config.GRPC_PORT, httpPort: config.HTTP_PORT, tls,
    stallTimeoutMs: config.API_STREAM_STALL_TIMEOUT_MS,
  });
  const ports = await api.start();
  logger.info(ports, 'api serving');
  const shutdown = new Shutdown({ logger })
    .add('api', () => api.stop())
    .add('clients', () => { runs.close(); logs.close(); })
    .add('postgres', () => pool.end())
    .add('telemetry', () => telemetry.shutdown())
    .listen();
  return shutdown.done;
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`api: ${err.message}\n`);
  process.exit(1);
});
