/**
 * Values from Kubernetes Secrets never reach a stored line: an executor whose kubernetes runtime has
 * `redactSecrets` reads the Secrets a task's env comes from before creating its Job, and every line
 * the real log collector stores (PostgreSQL, NATS) has their values replaced by `***`. Without the
 * setting no Secret is read. (Here rather than in apps/executor: the executor's tests may not import
 * the collector.)
 */
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { Pool } from 'pg';
import { createNatsBus, subjects, type Bus, type Subscription } from '@skein/bus';
import { createInternalGrpcServer } from '@skein/config';
import type { KubernetesSpec } from '@skein/domain';
import { createLogStoreClient, Executor, type LogStoreClient } from '@skein/executor';
import { LogLineStream, TaskDispatch, TaskEvent } from '@skein/proto';
import { createHttpKubeClient, createKubernetesRuntime, type KubernetesRuntime } from '@skein/runtime';
import { createPool, migrate } from '@skein/store';
import { createTestDatabase, startFakeKubeServer, startNatsServer, type FakeKubeServer, type NatsServer, type TestDatabase } from '@skein/testing';
import { addLogCollectorService } from './internal-grpc';
import { LogCollector } from './log-collector';

const silent = pino({ enabled: false });
const NAMESPACE = 'skein';
const REDACTING = 'k8s-redacting';
const PLAIN = 'k8s-plain';
const internalToken = 'i'.repeat(40);
const DB_PASSWORD = 'pg-pass-7f3a9c';
const API_TOKEN = 'api-token-41d8e2';
const API_URL = 'https://internal.example.com/v2';

/** `DB_PASSWORD` from Secret `db` (key `password`) and every key of Secret `api` as `API_*`. */
const kubernetes: KubernetesSpec = {
  envValueFrom: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
  envFrom: [{ secretRef: { name: 'api' }, prefix: 'API_' }],
};
/** Prints the values on stdout and stderr, alone and inside other text. */
const script = 'echo "$DB_PASSWORD"; echo "connecting with password=$DB_PASSWORD to $API_URL" >&2; ' +
  'echo "Authorization: Bearer $API_TOKEN"; echo "done"';

describe('kubernetes Secret values in the stored task log, with a real log collector', () => {
  let nats: NatsServer;
  let bus: Bus;
  let db: TestDatabase;
  let pool: Pool;
  let collector: LogCollector;
  let server: grpc.Server;
  let logStore: LogStoreClient;
  const events: TaskEvent[] = [];
  let eventsConsumer: Subscription | undefined;
  let fake: FakeKubeServer;
  const runtimes: KubernetesRuntime[] = [];
  const executors: Executor[] = [];
  let seq = 0;

  function kubernetesRuntime(redactSecrets: boolean): KubernetesRuntime {
    const client = createHttpKubeClient({ connection: { server: fake.url }, qps: 1000, burst: 1000 });
    const runtime = createKubernetesRuntime({ client, logger: silent, namespace: NAMESPACE, logDrainMs: 5000, deleteAfterRelease: true, redactSecrets });
    runtimes.push(runtime);
    return runtime;
  }

  async function startExecutor(queue: string, redactSecrets: boolean): Promise<void> {
    const executor = new Executor({
      bus, logger: silent, identity: `${queue}@host`, queues: [queue], ackWaitMs: 5000,
      runtimes: { kubernetes: kubernetesRuntime(redactSecrets) }, defaultRuntime: 'kubernetes', logStore,
    });
    executors.push(executor);
    await executor.start();
  }

  /** Dispatches the task on `queue`; resolves with its terminal event once its whole log is stored. */
  async function run(queue: string): Promise<{ attemptId: string; event: TaskEvent; lines: { stream: LogLineStream; text: string }[] }> {
    seq += 1;
    const dispatch = TaskDispatch.fromPartial({
      attemptId: `0000000000k8ssecret${String(seq).padStart(7, '0')}`, runId: '0000000000k8ssecretrun00001', workflow: 'wf', workflowVersion: 1,
      task: `print-secrets-${seq}`, attempt: 1, queue, runtime: '', image: 'example.com/sh:1', command: ['sh', '-c', script], args: [], env: [],
      timeoutMs: 0, logicalDate: new Date('2026-03-01T06:00:00Z'), dispatchTime: new Date(), kubernetesJson: JSON.stringify(kubernetes),
    });
    const { attemptId } = dispatch;
    await bus.publish(subjects.dispatch(queue), TaskDispatch.encode(dispatch).finish(), { msgId: attemptId });
    const terminal = (e: TaskEvent) => e.attemptId === attemptId && (e.kind?.$case === 'succeeded' || e.kind?.$case === 'failed');
    await until(async () => events.some(terminal));
    await until(async () => (await collector.store.status(attemptId)).complete);
    const lines = await collector.store.readLines(attemptId, 0, 1000);
    return { attemptId, event: events.find(terminal)!, lines: lines.map((l) => ({ stream: l.stream, text: l.text })) };
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await createNatsBus({ servers: nats.url, name: 'k8s-secrets-log', logger: silent });
    await bus.ensureStreams();
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    collector = new LogCollector({ pool, bus, logger: silent, maintenance: { intervalMs: 0 } });
    await collector.start();
    server = createInternalGrpcServer(internalToken);
    addLogCollectorService(server, collector);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    logStore = createLogStoreClient({ address: `127.0.0.1:${port}`, internalToken });
    eventsConsumer = await bus.consume({ stream: 'events', durable: 'test-scheduler' }, async (message) => {
      events.push(TaskEvent.decode(message.data));
      await message.ack();
    });
    fake = await startFakeKubeServer();
    await startExecutor(REDACTING, true);
    await startExecutor(PLAIN, false);
  }, 60_000);

  afterAll(async () => {
    for (const executor of executors) await executor.stop({ graceMs: 1000 });
    for (const runtime of runtimes) runtime.stop();
    await eventsConsumer?.drain();
    logStore?.close();
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
    await collector?.stop();
    await bus?.close();
    await nats?.stop();
    await pool?.end();
    await db?.drop();
    await fake?.stop();
  });

  it('a Secret that does not exist fails the attempt before its Job, and the stored log says why', async () => {
    fake.resetCalls();
    const { attemptId, event, lines } = await run(REDACTING);
    expect(event.kind?.$case === 'failed' && event.kind.failed).toMatchObject({ reason: 'SPAWN_FAILED' });
    const why = 'the Secret skein/db the task\'s env comes from could not be read, so its values could not be hidden in the task log: ' +
      'GET /api/v1/namespaces/skein/secrets/db: 404 secrets "db" not found';
    expect(lines.filter((l) => l.stream === LogLineStream.LOG_LINE_STREAM_SYSTEM).map((l) => l.text)).toContain(why);
    expect(fake.calls()['create jobs']).toBeUndefined();
    expect(fake.created('jobs', `skein.dev/attempt=${attemptId}`)).toBe(0);
  }, 60_000);

  it('replaces every value from a secretKeyRef and an envFrom Secret by *** in every stored line', async () => {
    fake.createSecret(NAMESPACE, 'db', { password: DB_PASSWORD, user: 'etl' });
    fake.createSecret(NAMESPACE, 'api', { TOKEN: API_TOKEN, URL: API_URL });
    fake.resetCalls();
    const { event, lines } = await run(REDACTING);
    expect(event.kind?.$case).toBe('succeeded');
    expect(fake.calls()['get secrets']).toBe(2);
    const output = lines.filter((l) => l.stream !== LogLineStream.LOG_LINE_STREAM_SYSTEM).map((l) => l.text);
    // One log of stdout and stderr, as in Kubernetes; the two pipes' lines may come in either order.
    expect(output.sort()).toEqual(['***', 'Authorization: Bearer ***', 'connecting with password=*** to ***', 'done']);
    for (const line of lines) {
      for (const value of [DB_PASSWORD, API_TOKEN, API_URL]) expect(line.text).not.toContain(value);
    }
  }, 60_000);

  it('reads no Secret without the setting (and the values then reach the log as the task wrote them)', async () => {
    fake.resetCalls();
    const { event, lines } = await run(PLAIN);
    expect(event.kind?.$case).toBe('succeeded');
    expect(fake.calls()['get secrets']).toBeUndefined();
    expect(lines.map((l) => l.text)).toContain(`Authorization: Bearer ${API_TOKEN}`);
  }, 60_000);
});

/** Re-checks `check` until it holds (the collector stores asynchronously); fails after 20 s. */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (let pauseMs = 10; !(await check()); pauseMs = Math.min(200, pauseMs * 2)) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
