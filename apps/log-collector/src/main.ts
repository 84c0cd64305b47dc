import pino from 'pino';
import { z } from 'zod';
import { createNatsBus } from '@skein/bus';
import { createInternalGrpcServer, fields, listenGrpc, loadConfig, Shutdown, stopGrpc } from '@skein/config';
import { createFsLogStore, createPool, migrate } from '@skein/store';
import { startTelemetry } from '@skein/telemetry';
import { addLogCollectorService } from './internal-grpc';
import { LogCollector } from './log-collector';

const schema = z.object({
  DATABASE_URL: fields.databaseUrl,
  NATS_URL: fields.natsUrl,
  LOG_COLLECTOR_GRPC_HOST: fields.host,
  LOG_COLLECTOR_GRPC_PORT: fields.port(7072),
  LOG_LEVEL: fields.logLevel,
  SKEIN_INTERNAL_TOKEN: fields.internalToken,
  /** Logs unchanged for this many days are deleted; 0 keeps them forever. */
  LOG_RETENTION_DAYS: z.coerce.number().int().min(0).default(30),
  /** Keep lines in this directory (a shared volume) instead of PostgreSQL. */
  LOG_STORE_DIR: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
});

async function main(): Promise<number> {
  const config = loadConfig(schema, process.env, 'log-collector');
  const logger = pino({ name: 'log-collector', level: config.LOG_LEVEL });
  const telemetry = await startTelemetry({ serviceName: 'skein-log-collector', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const pool = createPool(config.DATABASE_URL, { max: 10, applicationName: 'skein-log-collector', onIdleError: (err) => logger.warn({ err }, 'idle PostgreSQL connection lost') });
  await migrate(pool);
  const bus = await createNatsBus({ servers: config.NATS_URL.split(','), name: 'skein-log-collector', logger });
  await bus.ensureStreams();
  const store = config.LOG_STORE_DIR ? createFsLogStore(config.LOG_STORE_DIR) : undefined;
  const collector = new LogCollector({ pool, bus, logger, store, maintenance: { retentionDays: config.LOG_RETENTION_DAYS } });
  await collector.start();
  const server = createInternalGrpcServer(config.SKEIN_INTERNAL_TOKEN);
  addLogCollectorService(server, collector);
  const port = await listenGrpc(server, config.LOG_COLLECTOR_GRPC_HOST, config.LOG_COLLECTOR_GRPC_PORT);
  logger.info({ port }, 'log-collector serving internal gRPC');
  const shutdown = new Shutdown({ logger })
    .add('grpc', () => stopGrpc(server))
    .add('collector', () => collector.stop())
    .add('nats', () => bus.close())
    .add('postgres', () => pool.end())
    .add('telemetry', () => telemetry.shutdown())
    .listen();
  return shutdown.done;
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`log-collector: ${err.message}\n`);
  process.exit(1);
});
