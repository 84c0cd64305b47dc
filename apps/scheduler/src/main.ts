import pino from 'pino';
import { z } from 'zod';
import { createNatsBus } from '@skein/bus';
import { createInternalGrpcServer, fields, listenGrpc, loadConfig, Shutdown, stopGrpc } from '@skein/config';
import { createPool, migrate } from '@skein/store';
import { recordHopMarks, startTelemetry } from '@skein/telemetry';
import { addSchedulerService } from './internal-grpc';
import { DEFAULT_EVENT_ACK_WAIT_MS, Scheduler } from './scheduler';

const schema = z.object({
  DATABASE_URL: fields.databaseUrl,
  NATS_URL: fields.natsUrl,
  SCHEDULER_GRPC_HOST: fields.host,
  SCHEDULER_GRPC_PORT: fields.port(7071),
  SCHEDULER_ACK_WAIT_MS: fields.positiveInt(DEFAULT_EVENT_ACK_WAIT_MS),
  SCHEDULER_QUEUED_TIMEOUT_MS: fields.positiveInt(3_600_000),
  SCHEDULER_LOST_AFTER_MS: fields.positiveInt(60_000),
  LOG_LEVEL: fields.logLevel,
  SKEIN_INTERNAL_TOKEN: fields.internalToken,
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** Benchmarks: record the hot path's hop marks to `<prefix>.<pid>.json` (docs/benchmarks.md). */
  SKEIN_HOP_MARKS: z.string().min(1).optional(),
});

async function main(): Promise<number> {
  const config = loadConfig(schema, process.env, 'scheduler');
  const logger = pino({ name: 'scheduler', level: config.LOG_LEVEL });
  if (config.SKEIN_HOP_MARKS) recordHopMarks(config.SKEIN_HOP_MARKS);
  const telemetry = await startTelemetry({ serviceName: 'skein-scheduler', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const pool = createPool(config.DATABASE_URL, { max: 20, applicationName: 'skein-scheduler', onIdleError: (err) => logger.warn({ err }, 'idle PostgreSQL connection lost') });
  await migrate(pool);
  const hotPathPool = createPool(config.DATABASE_URL, { max: 16, applicationName: 'skein-scheduler-hot-path', plannedOnce: true, onIdleError: (err) => logger.warn({ err }, 'idle PostgreSQL connection lost') });
  const bus = await createNatsBus({ servers: config.NATS_URL.split(','), name: 'skein-scheduler', logger });
  await bus.ensureStreams();
  const scheduler = new Scheduler({ pool, hotPathPool, bus, logger, ackWaitMs: config.SCHEDULER_ACK_WAIT_MS, queuedTimeoutMs: config.SCHEDULER_QUEUED_TIMEOUT_MS,
    lostAfterMs: config.SCHEDULER_LOST_AFTER_MS });
  await scheduler.start();
  const server = createInternalGrpcServer(config.SKEIN_INTERNAL_TOKEN);
  addSchedulerService(server, scheduler);
  const port = await listenGrpc(server, config.SCHEDULER_GRPC_HOST, config.SCHEDULER_GRPC_PORT);
  logger.info({ port }, 'scheduler serving internal gRPC');
  const shutdown = new Shutdown({ logger })
    .add('grpc', () => stopGrpc(server))
    .add('scheduler', () => scheduler.stop())
    .add('nats', () => bus.close())
    .add('postgres', async () => {
      await hotPathPool.end();
      await pool.end();
    })
    .add('telemetry', () => telemetry.shutdown())
    .listen();
  return shutdown.done;
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`scheduler: ${err.message}\n`);
  process.exit(1);
});
