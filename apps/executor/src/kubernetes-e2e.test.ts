/**
 * Issue 4's "done when", at the executor: a workflow whose tasks extend the example elixir, rust and
 * python templates runs through the executor's kubernetes runtime against the fake API server, on
 * real NATS. The scheduler's part is played by the test (it publishes each dispatch the way
 * apps/scheduler's buildDispatch does, `kubernetes_json` included, and decides the retry).
 *
 * The fake API server runs each container's command as a local process, ignoring the image; the
 * templates' command prefixes (`mix run`, `python -m`) are answered by stand-in scripts on PATH.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createNatsBus, subjects, type Bus, type BusMessage } from '@skein/bus';
import { formatIssue, parseWorkflowFile, renderTaskTemplates, type TaskSpec, type WorkflowSpec } from '@skein/domain';
import { CancelAttempt, LogBatch, LogLineStream, TaskDispatch } from '@skein/proto';
import { createHttpKubeClient, createKubernetesRuntime, type KubernetesRuntime, type KubernetesRuntimeOptions, type TaskOutput } from '@skein/runtime';
import { startFakeKubeServer, startNatsServer, type FakeKubeServer, type NatsServer } from '@skein/testing';
import { BusRecorder, publishDispatch } from './bus-recorder.test-helper';
import { Executor } from './executor';
import { toTaskLaunch } from './task-events';

const silent = pino({ enabled: false });
const NAMESPACE = 'skein';
const examples = path.join(__dirname, '..', '..', '..', 'examples');

const WORKFLOW = `
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: polyglot-e2e}
spec:
  defaults:
    kubernetes: {namespace: ${NAMESPACE}}
  tasks:
    - name: ingest
      template: elixir
      command: ['echo "ingesting season $SEASON"; printf "{\\"path\\": \\"/data/2026.csv\\"}" > "$SKEIN_OUTPUT_PATH"']
      env: {SEASON: "2026"}
    - name: score
      template: rust
      command: [sh, -c, 'echo "scoring $INPUT"; printf "{\\"rows\\": 42}" > "$SKEIN_OUTPUT_PATH"']
      env: {INPUT: "{{ tasks.ingest.outputs.path }}"}
      dependsOn: [ingest]
    - name: report
      template: python
      command: ['echo "report of {{ tasks.score.outputs.rows }} rows"']
      dependsOn: [score]
    - name: long
      template: rust
      command: [sh, -c, 'echo started; sleep 60']
    - name: broken-image
      template: python
      command: ['echo never']
    - name: adopted
      template: rust
      command: [sh, -c, 'echo before; sleep 2; echo after; printf "{\\"adopted\\": true}" > "$SKEIN_OUTPUT_PATH"']
`;

function loadWorkflow(): WorkflowSpec {
  const source = [...['elixir', 'rust', 'python'].map((t) => readFileSync(path.join(examples, 'templates', `${t}.yaml`), 'utf8')), WORKFLOW].join('\n---\n');
  const parsed = parseWorkflowFile(source, 'polyglot-e2e.yaml');
  expect(parsed.errors.map(formatIssue)).toEqual([]);
  return parsed.workflows[0]!.spec;
}

let seq = 0;
/** The dispatch of one attempt, built as apps/scheduler/src/dispatch.ts buildDispatch builds it. */
function dispatchOf(workflow: WorkflowSpec, name: string, attempt: number, outputs: Record<string, Record<string, unknown>> = {}, overrides: Partial<TaskDispatch> = {}): TaskDispatch {
  const spec: TaskSpec | undefined = workflow.spec.tasks.find((t) => t.name === name);
  if (!spec) throw new Error(`no task ${name}`);
  seq += 1;
  const runId = '0000000000e2erun0000000001';
  const logicalDate = new Date('2026-03-01T06:00:00Z');
  const task = renderTaskTemplates(spec, { params: {}, run: { id: runId, logicalDate, workflow: workflow.metadata.name }, outputs });
  return TaskDispatch.fromPartial({
    attemptId: `0000000000e2eatt${String(seq).padStart(10, '0')}`,
    runId, workflow: workflow.metadata.name, workflowVersion: 1, task: task.name, attempt, queue: 'k8s', runtime: '',
    image: task.image ?? '', command: [...task.command], args: [...task.args], env: task.env.map((e) => ({ ...e })),
    timeoutMs: task.timeoutMs, logicalDate, dispatchTime: new Date(),
    kubernetesJson: task.kubernetes ? JSON.stringify(task.kubernetes) : '',
    ...overrides,
  });
}

describe('a polyglot workflow on the executor\'s kubernetes runtime (fake API server)', () => {
  let nats: NatsServer;
  let bus: Bus;
  let recorder: BusRecorder;
  let fake: FakeKubeServer;
  let binDir: string;
  let oldPath: string | undefined;
  const executors: Executor[] = [];
  const runtimes: KubernetesRuntime[] = [];
  /** For each attempt: how many of its Jobs existed when its final log batch was published. */
  const jobsAtFinalBatch = new Map<string, number>();
  let workflow: WorkflowSpec;

  const jobsOf = (attemptId: string) => fake.store.list('jobs', NAMESPACE, `skein.dev/attempt=${attemptId}`);

  function kubernetesRuntime(options: Partial<KubernetesRuntimeOptions> = {}): KubernetesRuntime {
    const client = createHttpKubeClient({ connection: { server: fake.url }, qps: 1000, burst: 1000 });
    const runtime = createKubernetesRuntime({ client, logger: silent, namespace: NAMESPACE, logDrainMs: 5000, pendingTimeoutMs: 2000, deleteAfterRelease: true, ...options });
    runtimes.push(runtime);
    return runtime;
  }

  /** The bus, except that a final log batch notes whether its attempt's Job still exists. */
  function watchedBus(): Bus {
    return {
      ensureStreams: () => bus.ensureStreams(),
      publish: async (subject, data, options) => {
        if (subject.startsWith(subjects.logs('').replace(/\.$/, ''))) {
          const batch = LogBatch.decode(data);
          if (batch.finalCount !== undefined) {
            // A slow final publish: a Job deleted before it is acknowledged would be gone by now.
            await new Promise((resolve) => setTimeout(resolve, 300));
            jobsAtFinalBatch.set(batch.attemptId, jobsOf(batch.attemptId).length);
          }
        }
        return bus.publish(subject, data, options);
      },
      consume: (options, handler) => bus.consume(options, handler),
      publishCore: (subject, data, headers) => bus.publishCore(subject, data, headers),
      subscribeCore: (subject, handler) => bus.subscribeCore(subject, handler),
      close: () => Promise.resolve(),
    };
  }

  async function startExecutor(identity: string): Promise<Executor> {
    const executor = new Executor({
      bus: watchedBus(), logger: silent, identity, queues: ['k8s'], ackWaitMs: 2000,
      runtimes: { kubernetes: kubernetesRuntime() }, defaultRuntime: 'kubernetes',
    });
    executors.push(executor);
    await executor.start();
    return executor;
  }

  const texts = async (attemptId: string, stream?: LogLineStream) =>
    (await recorder.log(attemptId)).filter((l) => stream === undefined || l.stream === stream).map((l) => l.text);

  async function run(dispatch: TaskDispatch) {
    await publishDispatch(bus, dispatch);
    return (await recorder.terminal(dispatch.attemptId)).event.kind;
  }

  beforeAll(async () => {
    binDir = mkdtempSync(path.join(os.tmpdir(), 'skein-k8s-e2e-'));
    // Stand-ins for the images' tools: `mix run SCRIPT` and `python -m SCRIPT` run SCRIPT with sh.
    for (const [tool, flag] of [['mix', 'run'], ['python', '-m']] as const) {
      writeFileSync(path.join(binDir, tool), `#!/bin/sh\n[ "$1" = "${flag}" ] && shift\nexec sh -c "$1"\n`);
      chmodSync(path.join(binDir, tool), 0o755);
    }
    oldPath = process.env['PATH'];
    process.env['PATH'] = `${binDir}:${oldPath ?? '/usr/bin:/bin'}`;
    fake = await startFakeKubeServer();
    nats = await startNatsServer();
    bus = await createNatsBus({ servers: nats.url, name: 'k8s-e2e', logger: silent });
    recorder = await BusRecorder.start(bus);
    workflow = loadWorkflow();
    await startExecutor('executor-a@host');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(executors.map((e) => e.stop({ graceMs: 1000 })));
    for (const runtime of runtimes) runtime.stop();
    await recorder?.stop();
    await bus?.close();
    await nats?.stop();
    await fake?.stop();
    process.env['PATH'] = oldPath;
    rmSync(binDir, { recursive: true, force: true });
  });

  it('runs the three languages in order, outputs flowing downstream, with a retry after OOMKilled', async () => {
    const ingest = dispatchOf(workflow, 'ingest', 1);
    const ingestEnd = await run(ingest);
    expect(ingestEnd).toMatchObject({ $case: 'succeeded', succeeded: { exitCode: 0, outputsJson: '{"path":"/data/2026.csv"}' } });
    expect(await texts(ingest.attemptId, LogLineStream.LOG_LINE_STREAM_STDOUT)).toEqual(['ingesting season 2026']);

    // The first score attempt is OOMKilled; the retry (as the scheduler would send it) succeeds.
    const outputs = { ingest: { path: '/data/2026.csv' } };
    const score1 = dispatchOf(workflow, 'score', 1, outputs);
    fake.scenario(`skein.dev/attempt=${score1.attemptId}`, { oomKilled: true });
    expect(await run(score1)).toMatchObject({ $case: 'failed', failed: { reason: 'OOM_KILLED', exitCode: 137 } });
    const score2 = dispatchOf(workflow, 'score', 2, outputs);
    expect(await run(score2)).toMatchObject({ $case: 'succeeded', succeeded: { outputsJson: '{"rows":42}' } });
    expect(await texts(score2.attemptId, LogLineStream.LOG_LINE_STREAM_STDOUT)).toEqual(['scoring /data/2026.csv']);

    const report = dispatchOf(workflow, 'report', 1, { ...outputs, score: { rows: 42 } });
    expect(await run(report)).toMatchObject({ $case: 'succeeded' });
    expect(await texts(report.attemptId, LogLineStream.LOG_LINE_STREAM_STDOUT)).toEqual(['report of 42 rows']);

    // Every Job went only after its attempt's final log batch was published, and goes then.
    for (const d of [ingest, score1, score2, report]) {
      expect(jobsAtFinalBatch.get(d.attemptId)).toBe(1);
      await fake.waitFor(() => jobsOf(d.attemptId).length === 0);
    }
  }, 60_000);

  it('builds each Job from its template and the task (kubernetes_json carried in the dispatch)', async () => {
    const dispatch = dispatchOf(workflow, 'score', 1, { ingest: { path: '/x' } });
    fake.resetCalls();
    const created = fake.waitFor(() => jobsOf(dispatch.attemptId).length === 1);
    await publishDispatch(bus, dispatch);
    await created;
    const [job] = jobsOf(dispatch.attemptId) as unknown as Array<{ metadata: { labels: Record<string, string> }; spec: { template: { spec: { containers: Array<Record<string, unknown>>; volumes?: unknown[] } } } }>;
    expect(job?.metadata.labels).toMatchObject({ language: 'rust', 'skein.dev/task': 'score' });
    expect(job?.spec.template.spec.containers[0]).toMatchObject({
      image: 'ghcr.io/acme/rust-tasks:1.82',
      resources: { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' } },
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
    });
    expect(job?.spec.template.spec.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }]);
    expect((await recorder.terminal(dispatch.attemptId)).event.kind?.$case).toBe('succeeded');
    await fake.waitFor(() => jobsOf(dispatch.attemptId).length === 0);
    // Few calls: one create, one log stream, one delete (the pod watch was opened by the first test).
    expect(fake.calls()).toEqual({ 'create jobs': 1, 'get pods/log': 1, 'delete jobs': 1 });
  }, 60_000);

  it('cancels a running attempt: CANCELLED, its Job and pod deleted', async () => {
    const dispatch = dispatchOf(workflow, 'long', 1);
    await publishDispatch(bus, dispatch);
    await recorder.until(() => recorder.batchesOf(dispatch.attemptId).flatMap((b) => b.lines).find((l) => l.text === 'started'), 'the line "started"');
    bus.publishCore(subjects.cancel(dispatch.attemptId), CancelAttempt.encode({ attemptId: dispatch.attemptId, reason: 'user asked' }).finish());
    expect((await recorder.terminal(dispatch.attemptId)).event.kind).toMatchObject({ $case: 'failed', failed: { reason: 'CANCELLED' } });
    await fake.waitFor(() => jobsOf(dispatch.attemptId).length === 0);
    expect(fake.store.list('pods', NAMESPACE, `skein.dev/attempt=${dispatch.attemptId}`)).toHaveLength(0);
  }, 60_000);

  it('shows an image pull failure in the task log and fails the attempt', async () => {
    const dispatch = dispatchOf(workflow, 'broken-image', 1);
    fake.scenario(`skein.dev/attempt=${dispatch.attemptId}`, { imagePullFailure: true });
    expect(await run(dispatch)).toMatchObject({ $case: 'failed', failed: { reason: 'SPAWN_FAILED' } });
    const system = await texts(dispatch.attemptId, LogLineStream.LOG_LINE_STREAM_SYSTEM);
    expect(system.some((line) => /pending: (ErrImagePull|ImagePullBackOff): .*ghcr\.io\/acme\/python-tasks:3\.12/.test(line))).toBe(true);
  }, 60_000);

  // With a log collector (EXECUTOR_LOG_COLLECTOR_ADDRESS) the adopter resumes the log where the store's
  // ends: apps/cli/src/e2e/kubernetes.test.ts runs that as processes (executor SIGKILLed, real collector,
  // every line once). The logs stream here is read by BusRecorder, so no collector can consume it: this
  // case is the executor without one, whose adopter reads the container log from its start.
  it('adopts the Job of an executor killed mid-task when the dispatch comes back (no log collector): no second Job', async () => {
    // Dispatched long ago: on the local runtime this redelivery would be reported LOST.
    const dispatch = dispatchOf(workflow, 'adopted', 1, {}, { queue: 'k8s-restart', dispatchTime: new Date(Date.now() - 120_000) });
    // The executor that dies: it takes the dispatch, creates the Job, and is killed (its runtime
    // stops following; the Job stays), never acking the dispatch.
    let received!: () => void;
    const got = new Promise<void>((resolve) => { received = resolve; });
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    const dead = await bus.consume({ stream: 'dispatch', durable: 'executors-k8s-restart', filterSubject: subjects.dispatch('k8s-restart') }, async (message: BusMessage) => {
      received();
      await released;
      message.nak();
    });
    fake.resetCalls();
    await publishDispatch(bus, dispatch);
    await got;
    const killed = kubernetesRuntime();
    const before: TaskOutput[] = [];
    let sawBefore!: () => void;
    const beforeSeen = new Promise<void>((resolve) => { sawBefore = resolve; });
    const first = killed.launch(toTaskLaunch(dispatch), (line) => { before.push(line); if (line.text === 'before') sawBefore(); });
    await beforeSeen;
    killed.stop();
    expect((await first.result).reason).toBe('CANCELLED');
    expect(jobsOf(dispatch.attemptId)).toHaveLength(1);

    // The restarted executor gets the redelivered dispatch and attaches to the running Job.
    const drained = dead.drain();
    const restarted = new Executor({
      bus: watchedBus(), logger: silent, identity: 'executor-b@host', queues: ['k8s-restart'], ackWaitMs: 2000,
      runtimes: { kubernetes: kubernetesRuntime() }, defaultRuntime: 'kubernetes',
    });
    executors.push(restarted);
    await restarted.start();
    release();
    await drained;
    const end = await recorder.terminal(dispatch.attemptId);
    expect(end.event).toMatchObject({ executor: 'executor-b@host', kind: { $case: 'succeeded', succeeded: { outputsJson: '{"adopted":true}' } } });
    const lines = await recorder.log(dispatch.attemptId);
    expect(lines.map((l) => l.text)).toEqual(expect.arrayContaining([expect.stringContaining('adopted the existing Job')]));
    // Nothing of the dead executor's was published: the adopter's log has the container's whole output, once.
    expect(lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.filter((l) => l.stream === LogLineStream.LOG_LINE_STREAM_STDOUT).map((l) => l.text)).toEqual(['before', 'after']);
    // One Job and one pod for the attempt, ever: the second create was answered 409 and adopted.
    expect(fake.calls()['create jobs']).toBe(2);
    expect(fake.store.list('pods', NAMESPACE, `skein.dev/attempt=${dispatch.attemptId}`).length).toBeLessThanOrEqual(1);
    await fake.waitFor(() => jobsOf(dispatch.attemptId).length === 0);
  }, 60_000);
});
