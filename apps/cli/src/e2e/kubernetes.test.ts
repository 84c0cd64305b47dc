/**
 * Issue 4's "done when", as separate processes: the scheduler, the executor (kubernetes runtime,
 * pointed at the fake API server by a kubeconfig), the log collector and the api, on real PostgreSQL
 * and NATS, run the polyglot example (examples/polyglot.yaml and its elixir, rust and python
 * templates, applied with the `skein` CLI). The fake API server runs each container's command as a
 * local process: the images' tools (`mix run`, `python -m`, `/usr/local/bin/score`) are stand-in
 * scripts under an image root directory.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPool } from '@skein/store';
import { startFakeKubeServer, startServiceStack, type FakeKubeServer, type RestClient, type ServiceStack } from '@skein/testing';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
const NAMESPACE = 'data';

interface AttemptJson { number: number; state: string; reason?: string; exitCode?: number; outputs?: Record<string, unknown> }
interface TaskRunJson { task: string; state: string; attempts: AttemptJson[] }
interface LogEntryJson { line: string; sequence: number; stream: string }

/** The images' filesystem: stand-ins for what examples/polyglot.yaml runs. */
function writeImageRoot(root: string): void {
  const write = (file: string, text: string) => {
    const full = path.join(root, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
    chmodSync(full, 0o755);
  };
  // `mix run SCRIPT ARGS...` and `python -m MODULE ARGS...` run the script of the app with sh.
  write('bin/mix', `#!/bin/sh\n[ "$1" = run ] && shift\nscript="$1"; shift\nexec sh "${root}/app/$script" "$@"\n`);
  write('bin/python', `#!/bin/sh\n[ "$1" = -m ] && shift\nmodule=$(echo "$1" | tr . /); shift\nexec sh "${root}/app/$module.py" "$@"\n`);
  // Ingest writes a line every 50 ms for a few seconds: long enough to kill its executor mid-task.
  write('app/priv/ingest.exs', [
    'echo "ingesting season $2"',
    'i=1; while [ $i -le 80 ]; do echo "ingest line $i"; i=$((i + 1)); sleep 0.05; done',
    'printf \'{"path": "/data/%s.csv"}\' "$2" > "$SKEIN_OUTPUT_PATH"', '',
  ].join('\n'));
  write('usr/local/bin/score', '#!/bin/sh\necho "scoring $2"\nprintf \'{"rows": 42}\' > "$SKEIN_OUTPUT_PATH"\n');
  write('app/reports/weekly.py', 'echo "$REPORT_TITLE: weekly report"\n');
  write('app/reports/slow.py', 'echo "slow report started"\nsleep 120\n');
}

/** Workflows of the fault scenarios, extending the example templates (retried at once, not after 30 s). */
const FAULTS = `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: polyglot-oom}
spec:
  defaults: {kubernetes: {namespace: ${NAMESPACE}}}
  tasks:
    - {name: score, template: rust, command: [/usr/local/bin/score], args: [--input, /data/x.csv], retries: 1, retryDelay: 0s}
---
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: polyglot-held}
spec:
  defaults: {kubernetes: {namespace: ${NAMESPACE}}}
  tasks:
    - {name: score, template: rust, command: [/usr/local/bin/score], args: [--input, /data/held.csv]}
---
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: polyglot-cancel}
spec:
  defaults: {kubernetes: {namespace: ${NAMESPACE}}}
  tasks:
    - {name: report, template: python, command: [reports.slow], retries: 0}
---
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: polyglot-pull}
spec:
  defaults: {kubernetes: {namespace: ${NAMESPACE}}}
  tasks:
    - {name: report, template: python, command: [reports.weekly], retries: 0}
`;

describe('the polyglot example on the kubernetes runtime, as separate services (fake API server)', () => {
  let fake: FakeKubeServer;
  let stack: ServiceStack;
  let api: RestClient;
  let root: string;
  let oldPath: string | undefined;
  const output: string[] = [];

  const taskRuns = async (workflow: string, runId: string) =>
    (await api.ok<{ taskRuns: TaskRunJson[] }>('GET', `/v1/workflows/${workflow}/runs/${runId}/tasks`)).taskRuns;
  const jobsOfRun = (runId: string) => fake.store.list('jobs', NAMESPACE, `skein.dev/run=${runId}`);

  /** Every stored line of a task's attempt, once its log is complete. */
  async function completeLog(workflow: string, runId: string, task: string, attempt = 1): Promise<LogEntryJson[]> {
    for (let i = 0; i < 400; i++) {
      const page = await api.ok<{ entries?: LogEntryJson[]; complete?: boolean }>(
        'GET', `/v1/workflows/${workflow}/runs/${runId}/tasks/${task}/logs?attempt=${attempt}&pageSize=10000`);
      if (page.complete) return page.entries ?? [];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the log of ${workflow}/${task} never became complete\n${output.slice(-40).join('\n')}`);
  }

  /** Waits until a line with `text` is stored in the task's (first attempt's) log. */
  async function untilLogged(workflow: string, runId: string, task: string, text: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const page = await api.call<{ entries?: LogEntryJson[] }>('GET', `/v1/workflows/${workflow}/runs/${runId}/tasks/${task}/logs?attempt=1&pageSize=10000`);
      if (page.status === 200 && page.json.entries?.some((e) => e.line === text)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`"${text}" never logged by ${workflow}/${task}\n${output.slice(-40).join('\n')}`);
  }

  async function trigger(workflow: string): Promise<string> {
    const { run } = await api.ok<{ run: { runId: string } }>('POST', `/v1/workflows/${workflow}/runs`, { params: {} });
    return run.runId;
  }

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'build.mjs'), '--all', '--quiet'], { stdio: 'inherit' });
    root = mkdtempSync(path.join(os.tmpdir(), 'skein-k8s-stack-'));
    writeImageRoot(root);
    // The fake pods run in this process's environment: `mix` and `python` are the stand-ins.
    oldPath = process.env['PATH'];
    process.env['PATH'] = `${path.join(root, 'bin')}:${oldPath ?? '/usr/bin:/bin'}`;
    fake = await startFakeKubeServer({ imageRoot: root });
    const kubeconfig = path.join(root, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      'clusters: [{name: fake, cluster: {server: "' + fake.url + '"}}]',
      'users: [{name: skein, user: {token: test-token}}]',
      'contexts: [{name: fake, context: {cluster: fake, user: skein}}]', '',
    ].join('\n'));
    stack = await startServiceStack({
      repoRoot,
      serverUrl: process.env['SKEIN_TEST_DATABASE_URL'] as string,
      executorEnv: {
        EXECUTOR_RUNTIME: 'kubernetes', KUBECONFIG: kubeconfig, EXECUTOR_K8S_NAMESPACE: NAMESPACE,
        // A dispatch held by a killed executor comes back after 3 s; a pod that never starts fails after 3 s.
        EXECUTOR_ACK_WAIT_MS: '3000', EXECUTOR_HEARTBEAT_MS: '300', EXECUTOR_K8S_PENDING_TIMEOUT_MS: '3000',
      },
      // Longer than the adoption takes: the adopted attempt is never reported LOST meanwhile.
      schedulerEnv: { SCHEDULER_LOST_AFTER_MS: '30000' },
      onOutput: (service, line) => output.push(`[${service}] ${line}`),
    });
    api = stack.api;
    // The CLI, as a user runs it: a directory of templates and the workflow file.
    const faults = path.join(root, 'faults.yaml');
    writeFileSync(faults, FAULTS);
    const applied = execFileSync(process.execPath, [
      path.join(repoRoot, 'dist', 'apps', 'cli', 'main.js'), '--server', stack.grpcAddress,
      'apply', '-f', path.join(repoRoot, 'examples', 'templates'), '-f', path.join(repoRoot, 'examples', 'polyglot.yaml'), '-f', faults,
    ], { encoding: 'utf8', env: { ...process.env, SKEIN_TOKEN: stack.adminToken } });
    expect(applied).toContain('workflow polyglot: created version 1');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await fake?.stop();
    process.env['PATH'] = oldPath;
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('runs elixir → rust → python with outputs and logs; an executor SIGKILLed mid-task is replaced and adopts the Job: no second Job, every line once', async () => {
    const runId = await trigger('polyglot');
    await untilLogged('polyglot', runId, 'ingest', 'ingest line 5');
    await stack.restart('executor');
    const ended = await api.waitForRun('polyglot', runId, 90_000);
    expect(ended.state).toBe('RUN_STATE_SUCCEEDED');

    const tasks = await taskRuns('polyglot', runId);
    expect(tasks.map((t) => [t.task, t.state, t.attempts.length])).toEqual([
      ['ingest', 'TASK_RUN_STATE_SUCCEEDED', 1], ['score', 'TASK_RUN_STATE_SUCCEEDED', 1], ['report', 'TASK_RUN_STATE_SUCCEEDED', 1],
    ]);
    expect(tasks[0]?.attempts[0]?.outputs).toEqual({ path: '/data/2026.csv' });
    expect(tasks[1]?.attempts[0]?.outputs).toEqual({ rows: 42 });

    // The adopted attempt's log: numbered 1..n without a gap, every container line exactly once, in order.
    const ingest = await completeLog('polyglot', runId, 'ingest');
    expect(ingest.map((e) => e.sequence)).toEqual(ingest.map((_, i) => i + 1));
    expect(ingest.filter((e) => e.stream === 'LOG_STREAM_STDOUT').map((e) => e.line)).toEqual([
      'ingesting season 2026', ...Array.from({ length: 80 }, (_, i) => `ingest line ${i + 1}`),
    ]);
    expect(ingest.some((e) => e.stream === 'LOG_STREAM_SYSTEM' && e.line.includes('adopted the existing Job'))).toBe(true);
    expect((await completeLog('polyglot', runId, 'score')).map((e) => e.line)).toContain('scoring /data/2026.csv');
    expect((await completeLog('polyglot', runId, 'report')).map((e) => e.line)).toContain('Season 2026: weekly report');

    // One Job per attempt ever created (the replacement's create was answered 409 and adopted); all deleted.
    for (const task of ['ingest', 'score', 'report']) expect(fake.created('jobs', `skein.dev/run=${runId},skein.dev/task=${task}`)).toBe(1);
    await fake.waitFor(() => jobsOfRun(runId).length === 0, 30_000);
  }, 120_000);

  it('adopts with the collector behind: the replacement waits until what the dead executor published is stored', async () => {
    const runId = await trigger('polyglot');
    await untilLogged('polyglot', runId, 'ingest', 'ingest line 5');
    // The collector falls behind: its inserts wait on a lock (reads go on), so the dead executor's
    // last batches stay in the logs stream, published and not stored.
    const pool = createPool(stack.databaseUrl, { max: 1 });
    const lock = await pool.connect();
    let locked = true;
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE log_lines IN EXCLUSIVE MODE');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await stack.restart('executor');
      // Long enough for the dispatch to come back to the replacement (ack wait 3 s) while the collector is behind.
      await new Promise((resolve) => setTimeout(resolve, 5000));
      await lock.query('COMMIT');
      locked = false;
    } finally {
      if (locked) await lock.query('ROLLBACK');
      lock.release();
      await pool.end();
    }
    expect((await api.waitForRun('polyglot', runId, 90_000)).state).toBe('RUN_STATE_SUCCEEDED');
    const ingest = await completeLog('polyglot', runId, 'ingest');
    expect(ingest.map((e) => e.sequence)).toEqual(ingest.map((_, i) => i + 1));
    expect(ingest.filter((e) => e.stream === 'LOG_STREAM_STDOUT').map((e) => e.line)).toEqual([
      'ingesting season 2026', ...Array.from({ length: 80 }, (_, i) => `ingest line ${i + 1}`),
    ]);
    expect(fake.created('jobs', `skein.dev/run=${runId},skein.dev/task=ingest`)).toBe(1);
  }, 120_000);

  it('retries an OOMKilled attempt', async () => {
    // Set before the run exists: only its first Job's pod is OOMKilled.
    fake.scenario('skein.dev/workflow=polyglot-oom', { oomKilled: true }, { times: 1 });
    const runId = await trigger('polyglot-oom');
    expect((await api.waitForRun('polyglot-oom', runId, 60_000)).state).toBe('RUN_STATE_SUCCEEDED');
    const [score] = await taskRuns('polyglot-oom', runId);
    expect(score?.attempts.map((a) => [a.state, a.reason ?? ''])).toEqual([['ATTEMPT_STATE_FAILED', 'OOM_KILLED'], ['ATTEMPT_STATE_SUCCEEDED', '']]);
    expect(score?.attempts[0]?.exitCode).toBe(137);
    expect((await completeLog('polyglot-oom', runId, 'score', 2)).map((e) => e.line)).toContain('scoring /data/x.csv');
  }, 90_000);

  it('deletes a Job only once the log collector holds its attempt\'s whole log', async () => {
    const collector = stack.processes.get('log-collector')!;
    // The collector is frozen: batches wait in JetStream, nothing is stored.
    collector.kill('SIGSTOP');
    let resumed = false;
    try {
      const runId = await trigger('polyglot-held');
      expect((await api.waitForRun('polyglot-held', runId, 60_000)).state).toBe('RUN_STATE_SUCCEEDED');
      // The attempt ended and its outcome is recorded, but its log is not stored: the Job stays.
      expect(jobsOfRun(runId)).toHaveLength(1);
      collector.kill('SIGCONT');
      resumed = true;
      await fake.waitFor(() => jobsOfRun(runId).length === 0, 30_000);
      expect((await completeLog('polyglot-held', runId, 'score')).map((e) => e.line)).toContain('scoring /data/held.csv');
    } finally {
      if (!resumed) collector.kill('SIGCONT');
    }
  }, 90_000);

  it('cancels a running attempt: its Job and pod are deleted', async () => {
    const runId = await trigger('polyglot-cancel');
    await untilLogged('polyglot-cancel', runId, 'report', 'slow report started');
    await api.ok('POST', `/v1/workflows/polyglot-cancel/runs/${runId}:cancel`, { reason: 'test' });
    expect((await api.waitForRun('polyglot-cancel', runId, 60_000)).state).toBe('RUN_STATE_CANCELLED');
    const [report] = await taskRuns('polyglot-cancel', runId);
    expect(report?.attempts[0]?.state).toBe('ATTEMPT_STATE_CANCELLED');
    await fake.waitFor(() => jobsOfRun(runId).length === 0, 30_000);
    expect(fake.store.list('pods', NAMESPACE, `skein.dev/run=${runId}`)).toHaveLength(0);
  }, 90_000);

  it('writes an image pull failure into the task log and fails the attempt', async () => {
    fake.scenario('skein.dev/workflow=polyglot-pull', { imagePullFailure: true });
    const runId = await trigger('polyglot-pull');
    expect((await api.waitForRun('polyglot-pull', runId, 60_000)).state).toBe('RUN_STATE_FAILED');
    const [report] = await taskRuns('polyglot-pull', runId);
    expect(report?.attempts[0]).toMatchObject({ state: 'ATTEMPT_STATE_FAILED', reason: 'SPAWN_FAILED' });
    const log = await completeLog('polyglot-pull', runId, 'report');
    expect(log.some((e) => e.stream === 'LOG_STREAM_SYSTEM' && /pending: (ErrImagePull|ImagePullBackOff): .*ghcr\.io\/acme\/python-tasks:3\.12/.test(e.line))).toBe(true);
  }, 90_000);
});
