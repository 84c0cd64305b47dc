import pino from 'pino';
import { z } from 'zod';
import { createNatsBus } from '@skein/bus';
import { fields, loadConfig, Shutdown } from '@skein/config';
import { createHttpKubeClient, createKubernetesRuntime, createLocalRuntime, createNoopRuntime, inClusterConnection, kubeconfigConnection, type Runtime } from '@skein/runtime';
import { recordHopMarks, startTelemetry } from '@skein/telemetry';
import { Executor } from './executor';
import { AttemptSightings } from './attempt-sightings';
import { RECOMMENDED_STARTED_GRACE_MS } from './executor-options';
import { JobSweeper } from './job-sweeper';
import { createLogStoreClient } from './log-store-client';

const schema = z.object({
  NATS_URL: fields.natsUrl,
  EXECUTOR_RUNTIME: z.enum(['local', 'noop', 'kubernetes']).default('local'),
  KUBECONFIG: z.string().optional(),
  KUBERNETES_SERVICE_HOST: z.string().optional(),
  KUBERNETES_SERVICE_PORT: z.string().default('443'),
  EXECUTOR_K8S_NAMESPACE: z.string().default('default'),
  EXECUTOR_K8S_QPS: fields.positiveInt(20),
  EXECUTOR_K8S_PENDING_TIMEOUT_MS: fields.positiveInt(300_000),
  EXECUTOR_K8S_SWEEP_INTERVAL_MS: fields.positiveInt(300_000),
  EXECUTOR_K8S_SWEEP_GRACE_MS: fields.positiveInt(600_000),
  // Read the Secrets a task's env comes from and hide their values in its log (needs `secrets: get`:
  // deploy/rbac/executor-secrets-rbac.yaml). Off by default: the base RBAC grants no secrets.
  EXECUTOR_K8S_REDACT_SECRETS: z.enum(['true', 'false']).default('false'),
  EXECUTOR_CAPACITY: fields.positiveInt(16),
  EXECUTOR_QUEUES: z.string().default('default'),
  EXECUTOR_ACK_WAIT_MS: fields.positiveInt(10_000),
  EXECUTOR_ID: z.string().optional(),
  EXECUTOR_DRAIN_MS: fields.positiveInt(30_000),
  EXECUTOR_HEARTBEAT_MS: fields.positiveInt(10_000),
  // A redelivered dispatch whose attempt no heartbeat has named for this long is reported LOST (default 3 × heartbeat).
  EXECUTOR_LOST_AFTER_MS: z.coerce.number().int().positive().optional(),
  // The log collector's internal gRPC (host:port): where an adopted attempt's log resumes, and whether
  // an attempt's whole log is stored before its Job is deleted.
  EXECUTOR_LOG_COLLECTOR_ADDRESS: z.string().optional(),
  // The shared secret of Skein's internal gRPC: needed with EXECUTOR_LOG_COLLECTOR_ADDRESS.
  SKEIN_INTERNAL_TOKEN: fields.internalToken.optional(),
  EXECUTOR_LOG_STORED_WAIT_MS: fields.positiveInt(30_000),
  EXECUTOR_STARTED_GRACE_MS: z.coerce.number().int().min(0).max(10_000).default(RECOMMENDED_STARTED_GRACE_MS),
  LOG_LEVEL: fields.logLevel,
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** Benchmarks: record the hot path's hop marks to `<prefix>.<pid>.json` (docs/benchmarks.md). */
  SKEIN_HOP_MARKS: z.string().min(1).optional(),
});

async function main(): Promise<number> {
  const config = loadConfig(schema, process.env, 'executor');
  const logger = pino({ name: 'executor', level: config.LOG_LEVEL });
  if (config.SKEIN_HOP_MARKS) recordHopMarks(config.SKEIN_HOP_MARKS);
  const telemetry = await startTelemetry({ serviceName: 'skein-executor', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const bus = await createNatsBus({ servers: config.NATS_URL.split(','), name: 'skein-executor', logger });
  await bus.ensureStreams();
  const local = createLocalRuntime();
  // A task must not outlive an executor that dies without draining (its attempt is reported LOST).
  process.on('exit', () => local.killAll());
  // The kubernetes runtime only when asked for: in-cluster credentials when running in a pod, else KUBECONFIG.
  const kubernetes: Record<string, Runtime> = {};
  let sweeper: JobSweeper | undefined;
  let sightings: AttemptSightings | undefined;
  if (config.EXECUTOR_RUNTIME === 'kubernetes') {
    const connection = config.KUBERNETES_SERVICE_HOST
      ? inClusterConnection(config.KUBERNETES_SERVICE_HOST, config.KUBERNETES_SERVICE_PORT)
      : kubeconfigConnection(config.KUBECONFIG ?? `${process.env['HOME'] ?? ''}/.kube/config`);
    const client = createHttpKubeClient({ connection, qps: config.EXECUTOR_K8S_QPS, burst: config.EXECUTOR_K8S_QPS * 2 });
    // deleteAfterRelease: a Job goes only once the executor has published the attempt's whole log.
    const runtime = createKubernetesRuntime({
      client, logger, namespace: config.EXECUTOR_K8S_NAMESPACE, pendingTimeoutMs: config.EXECUTOR_K8S_PENDING_TIMEOUT_MS, deleteAfterRelease: true,
      redactSecrets: config.EXECUTOR_K8S_REDACT_SECRETS === 'true',
    });
    kubernetes['kubernetes'] = runtime;
    // The sweep deletes running Jobs no executor's heartbeat has named for the grace (their attempts are LOST).
    sightings = new AttemptSightings(bus, logger);
    sightings.start();
    sweeper = new JobSweeper({
      runtime, logger, namespaces: [config.EXECUTOR_K8S_NAMESPACE], sightings,
      intervalMs: config.EXECUTOR_K8S_SWEEP_INTERVAL_MS, graceMs: config.EXECUTOR_K8S_SWEEP_GRACE_MS,
    });
  }
  if (config.EXECUTOR_LOG_COLLECTOR_ADDRESS && !config.SKEIN_INTERNAL_TOKEN) {
    logger.error('SKEIN_INTERNAL_TOKEN is required with EXECUTOR_LOG_COLLECTOR_ADDRESS: the log collector admits only calls bearing it');
    return 2;
  }
  const logStore = config.EXECUTOR_LOG_COLLECTOR_ADDRESS && config.SKEIN_INTERNAL_TOKEN
    ? createLogStoreClient({ address: config.EXECUTOR_LOG_COLLECTOR_ADDRESS, internalToken: config.SKEIN_INTERNAL_TOKEN })
    : undefined;
  const executor = new Executor({
    bus, logger,
    runtimes: { local, noop: createNoopRuntime(), ...kubernetes },
    defaultRuntime: config.EXECUTOR_RUNTIME,
    capacity: config.EXECUTOR_CAPACITY,
    queues: config.EXECUTOR_QUEUES.split(',').map((q) => q.trim()).filter(Boolean),
    ackWaitMs: config.EXECUTOR_ACK_WAIT_MS,
    identity: config.EXECUTOR_ID,
    heartbeatMs: config.EXECUTOR_HEARTBEAT_MS,
    ...(config.EXECUTOR_LOST_AFTER_MS !== undefined && { lostAfterMs: config.EXECUTOR_LOST_AFTER_MS }),
    ...(logStore && { logStore }),
    logStoredWaitMs: config.EXECUTOR_LOG_STORED_WAIT_MS,
    startedGraceMs: config.EXECUTOR_STARTED_GRACE_MS,
  });
  await executor.start();
  sweeper?.start();
  const shutdown = new Shutdown({ logger, timeoutMs: config.EXECUTOR_DRAIN_MS + 10_000 })
    .add('sweeper', async () => {
      await sweeper?.stop();
      await sightings?.stop();
    })
    .add('executor', () => executor.stop({ graceMs: config.EXECUTOR_DRAIN_MS }))
    .add('log-store', async () => logStore?.close())
    .add('kubernetes', async () => (kubernetes['kubernetes'] as { stop?: () => void } | undefined)?.stop?.())
    .add('nats', () => bus.close())
    .add('telemetry', () => telemetry.shutdown())
    .listen();
  return shutdown.done;
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`executor: ${err.message}\n`);
  process.exit(1);
});
