import pino from 'pino';
import { z } from 'zod';
import { fields, loadConfig, Shutdown } from '@skein/config';
import { createLogCollectorClient } from '@skein/log-collector';
import { createSchedulerClient } from '@skein/scheduler';
import { createPool, migrate } from '@skein/store';
import { startTelemetry } from '@skein/telemetry';
import { createApiService } from './api-service';

const schema = z.object({
  DATABASE_URL: fields.databaseUrl,
  API_HOST: fields.host,
  GRPC_PORT: fields.port(7070),
  HTTP_PORT: fields.port(8080),
  SCHEDULER_ADDRESS: fields.address('127.0.0.1:7071'),
  LOG_COLLECTOR_ADDRESS: fields.address('127.0.0.1:7072'),
  /** A TailLogs / WatchRun client that takes nothing for this long is dropped (RESOURCE_EXHAUSTED). */
  API_STREAM_STALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  LOG_LEVEL: fields.logLevel,
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
});

async function main(): Promise<number> {
  const config = loadConfig(schema, process.env, 'api');
  const logger = pino({ name: 'api', level: config.LOG_LEVEL });
  const telemetry = await startTelemetry({ serviceName: 'skein-api', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const pool = createPool(config.DATABASE_URL, { max: 10, applicationName: 'skein-api', onIdleError: (err) => logger.warn({ err }, 'idle PostgreSQL connection lost') });
  await migrate(pool);
  const runs = createSchedulerClient({ address: config.SCHEDULER_ADDRESS });
  const logs = createLogCollectorClient({ address: config.LOG_COLLECTOR_ADDRESS });
  const api = createApiService({ pool, runs, logs, logger, host: config.API_HOST, grpcPort: config.GRPC_PORT, httpPort: config.HTTP_PORT,
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
