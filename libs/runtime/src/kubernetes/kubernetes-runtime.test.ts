import pino from 'pino';
import { startFakeKubeServer, type FakeKubeServer } from '@skein/testing';
import type { OutputFlow, TaskOutput, TaskResult } from '../runtime';
import { createHttpKubeClient } from './http-kube-client';
import type { KubernetesTaskLaunch } from './job-manifest';
import { createKubernetesRuntime, type KubernetesRuntime } from './kubernetes-runtime';
import type { KubernetesRuntimeOptions } from './kubernetes-options';
import { validateJob } from './job-schema.test-helper';

const logger = pino({ level: 'silent' });
let fake: FakeKubeServer;
const runtimes: KubernetesRuntime[] = [];
let seq = 0;

function runtime(options: Partial<KubernetesRuntimeOptions> = {}): KubernetesRuntime {
  const client = createHttpKubeClient({ connection: { server: fake.url }, qps: 1000, burst: 1000 });
  const created = createKubernetesRuntime({ client, logger, namespace: 'skein', logDrainMs: 5000, ...options });
  runtimes.push(created);
  return created;
}

function task(name: string, script: string, extra: Partial<KubernetesTaskLaunch> = {}): KubernetesTaskLaunch {
  seq += 1;
  return {
    attemptId: `0000000000attempt${String(seq).padStart(9, '0')}`,
    runId: '0000000000run0000000000001', workflow: 'wf', task: name, attempt: 1,
    image: 'example.com/python:3.12', command: ['sh', '-c', script], args: [], env: [{ name: 'GREETING', value: 'hello', secret: false }],
    timeoutMs: 0, logicalDate: new Date('2026-01-01T00:00:00Z'), ...extra,
  };
}

function collect(): { lines: TaskOutput[]; onOutput: (line: TaskOutput) => void; texts: (stream?: string) => string[] } {
  const lines: TaskOutput[] = [];
  return { lines, onOutput: (line) => lines.push(line), texts: (stream) => lines.filter((l) => !stream || l.stream === stream).map((l) => l.text) };
}

const jobsOf = () => fake.store.list('jobs', 'skein', null);

beforeEach(async () => {
  fake = await startFakeKubeServer();
});

afterEach(async () => {
  for (const r of runtimes.splice(0)) r.stop();
  await fake.stop();
});

describe('kubernetes runtime against the fake API server', () => {
  it('runs a task: its log, exit code and outputs; deletes the Job after; few API calls', async () => {
    const k8s = runtime();
    const out = collect();
    const launched = task('extract', 'echo "$GREETING from $SKEIN_TASK"; echo to-stderr >&2; printf \'{"rows": 3}\' > "$SKEIN_OUTPUT_PATH"');
    expect(validateJob(k8s.render(launched))).toEqual([]);
    const running = k8s.launch(launched, out.onOutput);
    await expect(running.started).resolves.toBeInstanceOf(Date);
    const result = await running.result;
    expect(result).toMatchObject({ ok: true, exitCode: 0, outputs: { rows: 3 } });
    expect(out.texts('stdout')).toEqual(['hello from extract', 'to-stderr']);
    await fake.waitFor(() => jobsOf().length === 0);
    expect(fake.calls()).toEqual({ 'list pods': 1, 'watch pods': 1, 'create jobs': 1, 'get pods/log': 1, 'delete jobs': 1 });
  });

  it('makes a fixed number of API calls per attempt: 100 attempts at once, one watch for all', async () => {
    const k8s = runtime({ client: createHttpKubeClient({ connection: { server: fake.url }, qps: 1000, burst: 1000 }) });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => k8s.launch(task(`many${i}`, 'true'), () => undefined).result));
    expect(results.every((r) => r.ok)).toBe(true);
    await fake.waitFor(() => jobsOf().length === 0, 60_000);
    expect(fake.calls()).toEqual({ 'list pods': 1, 'watch pods': 1, 'create jobs': 100, 'get pods/log': 100, 'delete jobs': 100 });
  }, 90_000);

  it('shares one pod watch between attempts', async () => {
    const k8s = runtime();
    const results = await Promise.all([1, 2, 3].map((i) => k8s.launch(task(`t${i}`, `echo ${i}`), () => undefined).result));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(fake.calls()['watch pods']).toBe(1);
    expect(fake.calls()['create jobs']).toBe(3);
  });

  it('reports a failing exit code and keeps the failed Job under deleteSucceeded', async () => {
    const k8s = runtime({ cleanup: 'deleteSucceeded' });
    const result = await k8s.launch(task('fails', 'echo boom; exit 3'), () => undefined).result;
    expect(result).toMatchObject({ ok: false, exitCode: 3, reason: 'EXIT_CODE' });
    expect(jobsOf()).toHaveLength(1);
  });

  it('reports an OOMKilled attempt', async () => {
    fake.scenario('skein.dev/task=hungry', { oomKilled: true });
    const result = await runtime().launch(task('hungry', 'echo eating'), () => undefined).result;
    expect(result).toMatchObject({ ok: false, exitCode: 137, reason: 'OOM_KILLED' });
    expect(result.message).toContain('resources.limits.memory');
  });

  it('reports an evicted pod', async () => {
    fake.scenario('skein.dev/task=evicted', { evicted: true });
    const result = await runtime().launch(task('evicted', 'echo hi'), () => undefined).result;
    expect(result).toMatchObject({ ok: false, reason: 'EVICTED' });
  });

  it('writes an image pull failure into the log at once and fails after the pending timeout', async () => {
    fake.scenario('skein.dev/task=badimage', { imagePullFailure: true });
    const out = collect();
    const running = runtime({ pendingTimeoutMs: 1500 }).launch(task('badimage', 'echo never'), out.onOutput);
    await expect(running.started).rejects.toThrow(/ImagePullBackOff|ErrImagePull/);
    const result = await running.result;
    expect(result).toMatchObject({ ok: false, reason: 'SPAWN_FAILED' });
    expect(result.message).toMatch(/did not start within 2s: (ErrImagePull|ImagePullBackOff)/);
    const system = out.texts('system');
    expect(system.some((line) => line.includes('pending: ErrImagePull: failed to pull and unpack image "example.com/python:3.12"'))).toBe(true);
    expect(out.texts('stdout')).toEqual([]);
    await fake.waitFor(() => jobsOf().length === 0);
  });

  it('writes Unschedulable into the log', async () => {
    fake.scenario('skein.dev/task=huge', { unschedulable: true });
    const out = collect();
    const result = await runtime({ pendingTimeoutMs: 1000 }).launch(task('huge', 'true'), out.onOutput).result;
    expect(result.reason).toBe('SPAWN_FAILED');
    expect(out.texts('system').join('\n')).toContain('pending: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.');
  });

  it('cancels: deletes the Job and its pod', async () => {
    const out = collect();
    const running = runtime().launch(task('sleepy', 'echo started; sleep 30'), out.onOutput);
    await running.started;
    await waitForLine(out.lines, 'started');
    running.cancel('cancelled by a user');
    const result = await running.result;
    expect(result).toMatchObject({ ok: false, reason: 'CANCELLED' });
    expect(jobsOf()).toHaveLength(0);
    expect(fake.store.list('pods', 'skein', null)).toHaveLength(0);
    expect(fake.calls()['delete jobs']).toBe(1);
  });

  it('enforces the timeout', async () => {
    const result = await runtime().launch(task('slow', 'sleep 30', { timeoutMs: 1000 }), () => undefined).result;
    expect(result).toMatchObject({ ok: false, reason: 'TIMEOUT' });
    // The result settles first (the log is safe by then); the Job is deleted right after.
    for (let i = 0; i < 100 && jobsOf().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(jobsOf()).toHaveLength(0);
  });

  it('survives a watch disconnect and a 410 Gone mid-run', async () => {
    const out = collect();
    const running = runtime().launch(task('steady', 'echo one; sleep 2; echo two'), out.onOutput);
    await running.started;
    await waitForLine(out.lines, 'one');
    fake.dropWatches();
    await fake.waitFor(() => fake.openStreams().watches === 1 && (fake.calls()['watch pods'] ?? 0) >= 2);
    fake.expireWatches();
    await fake.waitFor(() => (fake.calls()['list pods'] ?? 0) >= 2 && fake.openStreams().watches === 1);
    const result = await running.result;
    expect(result.ok).toBe(true);
    expect(out.texts('stdout')).toEqual(['one', 'two']);
  });

  it('resumes a cut log stream from the last line, without duplicates or gaps', async () => {
    const out = collect();
    const running = runtime().launch(task('chatty', 'for i in 1 2 3 4 5; do echo line-$i; done; sleep 1; for i in 6 7 8 9 10; do echo line-$i; done'), out.onOutput);
    await waitForLine(out.lines, 'line-5');
    fake.dropLogStreams();
    const result = await running.result;
    expect(result.ok).toBe(true);
    expect(out.texts('stdout')).toEqual(Array.from({ length: 10 }, (_, i) => `line-${i + 1}`));
    expect(fake.calls()['get pods/log']).toBeGreaterThanOrEqual(2);
  });

  it('retries a create answered 429 and 500, and reports an API refusal in the log', async () => {
    fake.failNext({ verb: 'create', resource: 'jobs', status: 429 });
    fake.failNext({ verb: 'create', resource: 'jobs', status: 500 });
    const ok = await runtime().launch(task('retried', 'true'), () => undefined).result;
    expect(ok.ok).toBe(true);
    fake.failNext({ verb: 'create', resource: 'jobs', status: 422, message: 'Job.batch "x" is invalid: spec.template.spec.containers[0].image: Required value' });
    const out = collect();
    const refused = await runtime().launch(task('refused', 'true'), out.onOutput).result;
    expect(refused).toMatchObject({ ok: false, reason: 'SPAWN_FAILED' });
    expect(out.texts('system').join('\n')).toContain('containers[0].image: Required value');
  });

  it('adopts the Job of an attempt launched again (another executor): never a second Job', async () => {
    const first = runtime();
    const launched = task('adopted', 'echo before; sleep 1; echo after; printf \'{"ok": true}\' > "$SKEIN_OUTPUT_PATH"');
    const out1 = collect();
    const running1 = first.launch(launched, out1.onOutput);
    await waitForLine(out1.lines, 'before');
    // The first executor dies: its streams go, the Job stays.
    first.stop();
    expect((await running1.result).reason).toBe('CANCELLED');
    expect(jobsOf()).toHaveLength(1);
    const out2 = collect();
    const result: TaskResult = await runtime().launch(launched, out2.onOutput).result;
    expect(result).toMatchObject({ ok: true, outputs: { ok: true } });
    expect(out2.texts('system').join('\n')).toContain('adopted the existing Job');
    expect(out2.texts('stdout')).toEqual(['before', 'after']);
    expect(fake.calls()['create jobs']).toBe(2);
    expect(fake.store.list('pods', null as unknown as string, 'skein.dev/task=adopted').length).toBeLessThanOrEqual(1);
  });

  it('resumes an adopted attempt\'s log after the lines the store holds: none twice, none missing', async () => {
    const first = runtime();
    const launched = task('resumed', 'echo a-1; echo a-2; echo a-3; sleep 1; echo b-1; echo b-2');
    const out1 = collect();
    const running1 = first.launch(launched, out1.onOutput);
    await waitForLine(out1.lines, 'a-3');
    first.stop();
    await running1.result;
    // Say the store holds a-1 and a-2 (a-3 was read but its batch never published): resume after a-2.
    const stdout = out1.lines.filter((l) => l.stream === 'stdout');
    const lastStored = stdout[1]!;
    const atTime = stdout.slice(0, 2).filter((l) => l.time.getTime() === lastStored.time.getTime()).length;
    const out2 = collect();
    const result = await runtime().launch({ ...launched, resumeLog: { afterTime: lastStored.time, linesAtTime: atTime } }, out2.onOutput).result;
    expect(result.ok).toBe(true);
    expect(out2.texts('stdout')).toEqual(['a-3', 'b-1', 'b-2']);
  });

  it('resumes an adopted attempt\'s log exactly when the store ends inside an over-long line', async () => {
    const first = runtime();
    // The middle line is 150,000 bytes: the runtime cuts it into three pieces at one instant.
    const launched = task('split', 'echo a-1; head -c 150000 /dev/zero | tr "\\0" x; echo; echo a-3; sleep 1; echo b-1');
    const out1 = collect();
    const running1 = first.launch(launched, out1.onOutput);
    await waitForLine(out1.lines, 'a-3');
    first.stop();
    await running1.result;
    const stdout = out1.lines.filter((l) => l.stream === 'stdout');
    expect(stdout.map((l) => l.text.length)).toEqual([3, expect.any(Number), expect.any(Number), expect.any(Number), 3]);
    expect(stdout.slice(1, 4).map((l) => l.text).join('')).toBe('x'.repeat(150_000));
    // Say the store holds a-1 and the first two pieces: the adopter goes on with the third.
    const lastStored = stdout[2]!;
    const atTime = stdout.slice(0, 3).filter((l) => l.time.getTime() === lastStored.time.getTime()).length;
    const out2 = collect();
    const result = await runtime().launch({ ...launched, resumeLog: { afterTime: lastStored.time, linesAtTime: atTime } }, out2.onOutput).result;
    expect(result.ok).toBe(true);
    expect(out2.texts('stdout')).toEqual([stdout[3]!.text, 'a-3', 'b-1']);
  });

  it('pauses the log stream while the flow is closed: nothing dropped, every line in order', async () => {
    const flow = gate();
    const out = collect();
    // Twenty chunks of a hundred numbered lines; a drain time far shorter than the flow stays closed.
    const script = 'i=0; while [ $i -lt 20 ]; do seq $((i*100+1)) $((i*100+100)); i=$((i+1)); sleep 0.05; done';
    const running = runtime({ logDrainMs: 100 }).launch(task('throttled', script), out.onOutput, flow);
    let settled = false;
    void running.result.then(() => (settled = true));
    await fake.waitFor(() => podTerminated('throttled'), 30_000);
    // The container has written all 2,000 lines, but the closed flow held the read after the first chunk.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(out.lines.length).toBeLessThan(2000);
    expect(settled).toBe(false);
    flow.open();
    const result = await running.result;
    expect(result.ok).toBe(true);
    expect(out.texts('stdout')).toEqual(Array.from({ length: 2000 }, (_, i) => String(i + 1)));
  });

  it('sweeps Jobs whose attempt is not active', async () => {
    const k8s = runtime({ cleanup: 'keep' });
    await k8s.launch(task('kept', 'true'), () => undefined).result;
    expect(jobsOf()).toHaveLength(1);
    const deleted = await k8s.sweep('skein', async () => false);
    expect(deleted).toHaveLength(1);
    expect(jobsOf()).toHaveLength(0);
  });
});

function waitForLine(lines: readonly TaskOutput[], text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (lines.some((l) => l.text === text)) return resolve();
      if (Date.now() - started > 20_000) return reject(new Error(`no line ${text}`));
      setTimeout(check, 20);
    };
    check();
  });
}

/** An {@link OutputFlow} that is closed until `open()`. */
function gate(): OutputFlow & { open(): void } {
  let writable = false;
  const waiters: (() => void)[] = [];
  return {
    get writable() {
      return writable;
    },
    drained: () => (writable ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    open() {
      writable = true;
      for (const resolve of waiters.splice(0)) resolve();
    },
  };
}

function podTerminated(taskName: string): boolean {
  const [pod] = fake.store.list('pods', 'skein', `skein.dev/task=${taskName}`) as { status?: { containerStatuses?: { state?: { terminated?: unknown } }[] } }[];
  return pod?.status?.containerStatuses?.[0]?.state?.terminated !== undefined;
}
