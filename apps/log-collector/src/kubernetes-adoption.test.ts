/**
 * An adopted Kubernetes attempt's log with a real log collector (PostgreSQL, NATS, the collector's
 * internal gRPC) at the executor: the adopter numbers on from the stored log, resumes the container
 * log after its last stored line, and its size cap goes on from the stored output bytes instead of
 * starting again from zero. (apps/cli/src/e2e/kubernetes.test.ts runs the adoption as processes.)
 * It lives here rather than in apps/executor because the executor's tests may not import the collector
 * (this project's tests import the executor).
 */
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { Pool } from 'pg';
import { createNatsBus, subjects, type Bus, type BusMessage, type Subscription } from '@skein/bus';
import { createInternalGrpcServer } from '@skein/config';
import { AttemptLog, createLogStoreClient, createRedactor, DEFAULT_LOG_BATCH, DEFAULT_PUBLISH_RETRY, Executor, type LogStoreClient } from '@skein/executor';
import { LogLineStream, TaskDispatch, TaskEvent } from '@skein/proto';
import { createHttpKubeClient, createKubernetesRuntime, type KubernetesRuntime, type TaskOutput } from '@skein/runtime';
import { createPool, migrate } from '@skein/store';
import { createTestDatabase, startFakeKubeServer, startNatsServer, type FakeKubeServer, type NatsServer, type TestDatabase } from '@skein/testing';
import { addLogCollectorService } from './internal-grpc';
import { LogCollector } from './log-collector';

const silent = pino({ enabled: false });
const NAMESPACE = 'skein';
const QUEUE = 'k8s-adopt';
const internalToken = 'i'.repeat(40);
/** A cap of ten 10-byte lines. */
const logBatch = { maxAttemptBytes: 100 };

describe('an adopted kubernetes attempt\'s log, with a real log collector', () => {
  let nats: NatsServer;
  let bus: Bus;
  let db: TestDatabase;
  let pool: Pool;
  let collector: LogCollector;
  let server: grpc.Server;
  let logStore: LogStoreClient;
  /** Task events, as the scheduler would receive them. */
  const events: TaskEvent[] = [];
  let eventsConsumer: Subscription | undefined;
  let fake: FakeKubeServer;
  const runtimes: KubernetesRuntime[] = [];
  let executor: Executor | undefined;

  function kubernetesRuntime(): KubernetesRuntime {
    const client = createHttpKubeClient({ connection: { server: fake.url }, qps: 1000, burst: 1000 });
    const runtime = createKubernetesRuntime({ client, logger: silent, namespace: NAMESPACE, logDrainMs: 5000, deleteAfterRelease: true });
    runtimes.push(runtime);
    return runtime;
  }

  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await createNatsBus({ servers: nats.url, name: 'k8s-adoption-log', logger: silent });
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
  }, 60_000);

  afterAll(async () => {
    await executor?.stop({ graceMs: 1000 });
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

  it('goes on from the stored log: numbering, the lines after the last stored one, and the size cap', async () => {
    // Six 10-byte lines, a pause (the executor dies in it), six more.
    const script = 'i=1; while [ $i -le 6 ]; do printf "b%09d\\n" $i; i=$((i+1)); done; sleep 2; ' +
      'i=1; while [ $i -le 6 ]; do printf "a%09d\\n" $i; i=$((i+1)); done';
    const dispatch = TaskDispatch.fromPartial({
      attemptId: '0000000000adoptlog0000000001', runId: '0000000000adoptlogrun000001', workflow: 'wf', workflowVersion: 1,
      task: 'capped', attempt: 1, queue: QUEUE, runtime: '', image: 'example.com/sh:1', command: ['sh', '-c', script], args: [], env: [],
      timeoutMs: 0, logicalDate: new Date('2026-03-01T06:00:00Z'), dispatchTime: new Date(),
    });
    const { attemptId } = dispatch;

    // The executor that dies holds the dispatch unacked, runs the task, and publishes its log (the
    // collector stores it): six lines of output, 60 of the 100 bytes the cap allows.
    let received!: () => void;
    const got = new Promise<void>((resolve) => { received = resolve; });
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    const dead = await bus.consume({ stream: 'dispatch', durable: `executors-${QUEUE}`, filterSubject: subjects.dispatch(QUEUE) }, async (message: BusMessage) => {
      received();
      await released;
      message.nak();
    });
    await bus.publish(subjects.dispatch(QUEUE), TaskDispatch.encode(dispatch).finish(), { msgId: attemptId });
    await got;
    const deadLog = new AttemptLog(bus, dispatch, createRedactor([]), { ...DEFAULT_LOG_BATCH, ...logBatch }, DEFAULT_PUBLISH_RETRY, silent);
    deadLog.append('system', 'attempt 1 started on executor dead@host', new Date());
    const killed = kubernetesRuntime();
    let sixth!: () => void;
    const sawSixth = new Promise<void>((resolve) => { sixth = resolve; });
    const launch = {
      attemptId, runId: dispatch.runId, workflow: dispatch.workflow, task: dispatch.task, attempt: 1, image: dispatch.image,
      command: dispatch.command, args: [], env: [], timeoutMs: 0, logicalDate: dispatch.logicalDate!,
    };
    const first = killed.launch(launch, (line: TaskOutput) => {
      deadLog.append(line.stream, line.text, line.time);
      if (line.text === 'b000000006') sixth();
    });
    await sawSixth;
    await until(async () => (await collector.store.status(attemptId)).storedCount === 7);
    killed.stop();
    expect((await first.result).reason).toBe('CANCELLED');

    // Its replacement gets the dispatch again and adopts the Job.
    const drained = dead.drain();
    executor = new Executor({
      bus, logger: silent, identity: 'executor-b@host', queues: [QUEUE], ackWaitMs: 2000,
      runtimes: { kubernetes: kubernetesRuntime() }, defaultRuntime: 'kubernetes', logStore, logBatch,
    });
    await executor.start();
    release();
    await drained;
    await until(async () => events.some((e) => e.attemptId === attemptId && e.kind?.$case === 'succeeded'));
    expect(events.find((e) => e.attemptId === attemptId && e.kind?.$case === 'succeeded')).toMatchObject({ executor: 'executor-b@host' });

    await until(async () => (await collector.store.status(attemptId)).complete);
    const lines = await collector.store.readLines(attemptId, 0, 1000);
    expect(lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));
    const output = lines.filter((l) => l.stream !== 3).map((l) => l.text);
    // Every line of the dead executor's once, then what fits under the cap: 40 bytes, four lines.
    expect(output).toEqual([1, 2, 3, 4, 5, 6].map((i) => `b00000000${i}`).concat([1, 2, 3, 4].map((i) => `a00000000${i}`)));
    const system = lines.filter((l) => l.stream === LogLineStream.LOG_LINE_STREAM_SYSTEM).map((l) => l.text);
    expect(system).toContain('log size limit of 100 B reached: further output of this attempt is dropped');
    expect(system).toContain('log truncated: 2 lines (20 B) over the limit of 100 B were dropped');
    await fake.waitFor(() => fake.store.list('jobs', NAMESPACE, `skein.dev/attempt=${attemptId}`).length === 0);
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
