import pino from 'pino';
import { z } from 'zod';
import { createNatsBus } from '@skein/bus';
import { fields, loadConfig, Shutdown } from '@skein/config';
import { createLocalRuntime, createNoopRuntime } from '@skein/runtime';
import { startTelemetry } from '@skein/telemetry';
import { Executor } from './executor';

const schema = z.object({
  NATS_URL: fields.natsUrl,
  EXECUTOR_RUNTIME: z.enum(['local', 'noop']).default('local'),
  EXECUTOR_CAPACITY: fields.positiveInt(16),
  EXECUTOR_QUEUES: z.string().default('default'),
  EXECUTOR_ACK_WAIT_MS: fields.positiveInt(30_000),
  EXECUTOR_ID: z.string().optional(),
  EXECUTOR_DRAIN_MS: fields.positiveInt(30_000),
  LOG_LEVEL: fields.logLevel,
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
});

async function main(): Promise<number> {
  const config = loadConfig(schema, process.env, 'executor');
  const logger = pino({ name: 'executor', level: config.LOG_LEVEL });
  const telemetry = await startTelemetry({ serviceName: 'skein-executor', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const bus = await createNatsBus({ servers: config.NATS_URL.split(','), name: 'skein-executor', logger });
  await bus.ensureStreams();
  const local = createLocalRuntime();
  // A task must not outlive an executor that dies without draining (its attempt is reported LOST).
  process.on('exit', () => local.killAll());
  const executor = new Executor({
    bus, logger,
    runtimes: { local, noop: createNoopRuntime() },
    defaultRuntime: config.EXECUTOR_RUNTIME,
    capacity: config.EXECUTOR_CAPACITY,
    queues: config.EXECUTOR_QUEUES.split(',').map((q) => q.trim()).filter(Boolean),
    ackWaitMs: config.EXECUTOR_ACK_WAIT_MS,
    identity: config.EXECUTOR_ID,
  });
  await executor.start();
  const shutdown = new Shutdown({ logger, timeoutMs: config.EXECUTOR_DRAIN_MS + 10_000 })
    .add('executor', () => executor.stop({ graceMs: config.EXECUTOR_DRAIN_MS }))
    .add('nats', () => bus.close())
    .add('telemetry', () => telemetry.shutdown())
    .listen();
  return shutdown.done;
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`executor: ${err.message}\n`);
  process.exit(1);
});
