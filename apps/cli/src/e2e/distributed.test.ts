import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RestClient, startServiceStack, type ServiceStack } from '@skein/testing';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');

interface TaskRunJson { task: string; state: string; attempts: { number: number; state: string; reason?: string; exitCode?: number; outputs?: Record<string, unknown> }[] }

describe('Skein as four separate services on PostgreSQL and NATS', () => {
  let stack: ServiceStack;
  let api: RestClient;
  const output: string[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'build.mjs'), '--all', '--quiet'], { stdio: 'inherit' });
    stack = await startServiceStack({
      repoRoot,
      serverUrl: process.env['SKEIN_TEST_DATABASE_URL'] as string,
      // A short ack wait, so a dispatch held by a killed executor comes back within the test.
      executorEnv: { EXECUTOR_ACK_WAIT_MS: '3000', EXECUTOR_HEARTBEAT_MS: '300' },
      // An attempt whose executor stops sending heartbeats is LOST after this long.
      schedulerEnv: { SCHEDULER_LOST_AFTER_MS: '2000' },
      onOutput: (service, line) => output.push(`[${service}] ${line}`),
    });
    api = stack.api;
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs the diamond example end to end, with outputs and every log line', async () => {
    const source = readFileSync(path.join(repoRoot, 'examples', 'diamond.yaml'), 'utf8');
    await api.ok('POST', '/v1/workflows:apply', { source, fileName: 'diamond.yaml' });
    const { run } = await api.ok<{ run: { runId: string } }>('POST', '/v1/workflows/diamond/runs', { params: { greeting: 'hi' } });
    const ended = await api.waitForRun('diamond', run.runId);
    expect(ended.state).toBe('RUN_STATE_SUCCEEDED');
    const { taskRuns } = await api.ok<{ taskRuns: TaskRunJson[] }>('GET', `/v1/workflows/diamond/runs/${run.runId}/tasks`);
    expect(taskRuns.map((t) => [t.task, t.state])).toEqual([
      ['a', 'TASK_RUN_STATE_SUCCEEDED'], ['b', 'TASK_RUN_STATE_SUCCEEDED'], ['c', 'TASK_RUN_STATE_SUCCEEDED'], ['d', 'TASK_RUN_STATE_SUCCEEDED'],
    ]);
    expect(taskRuns[0]?.attempts[0]?.outputs).toEqual({ rows: 42, source: 'a' });

    const logs = async (task: string) => {
      for (let i = 0; i < 100; i++) {
        const page = await api.ok<{ entries?: { line: string; sequence: number; stream: string }[]; complete?: boolean }>(
          'GET', `/v1/workflows/diamond/runs/${run.runId}/tasks/${task}/logs`);
        if (page.complete) return page.entries ?? [];
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`log of ${task} never complete`);
    };
    const a = await logs('a');
    expect(a.map((e) => e.line)).toContain(`hi from a (run ${run.runId}, attempt 1)`);
    expect(a.map((e) => e.sequence)).toEqual(a.map((_, i) => i + 1));
    const b = await logs('b');
    expect(b.map((e) => e.line)).toEqual(expect.arrayContaining(['b sees 42 rows', 'b to stderr']));
    expect(b.find((e) => e.line === 'b to stderr')?.stream).toBe('LOG_STREAM_STDERR');
    const c = await logs('c');
    expect(c.filter((e) => e.stream === 'LOG_STREAM_STDOUT').map((e) => e.line)).toEqual(['c line 1', 'c line 2', 'c line 3']);
  }, 60_000);

  it('recovers when the executor is killed mid-task: the attempt is LOST and retried', async () => {
    const source = `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: survivor}
spec:
  tasks:
    - name: slow
      command: ["sh", "-c", "echo started; sleep 2; echo finished"]
      retries: 2
      retryDelay: 0s
`;
    await api.ok('POST', '/v1/workflows:apply', { source, fileName: 'survivor.yaml' });
    const { run } = await api.ok<{ run: { runId: string } }>('POST', '/v1/workflows/survivor/runs', { params: {} });
    for (let i = 0; ; i++) {
      const { taskRuns } = await api.ok<{ taskRuns: TaskRunJson[] }>('GET', `/v1/workflows/survivor/runs/${run.runId}/tasks`);
      if (taskRuns[0]?.state === 'TASK_RUN_STATE_RUNNING') break;
      if (i > 400) throw new Error(`task never started: ${JSON.stringify(taskRuns)}\n${output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await stack.kill('executor', 'SIGKILL');
    await stack.restart('executor');
    const ended = await api.waitForRun('survivor', run.runId, 60_000);
    expect(ended.state).toBe('RUN_STATE_SUCCEEDED');
    const { taskRuns } = await api.ok<{ taskRuns: TaskRunJson[] }>('GET', `/v1/workflows/survivor/runs/${run.runId}/tasks`);
    const attempts = taskRuns[0]?.attempts ?? [];
    expect(attempts.map((a) => [a.number, a.state])).toEqual([[1, 'ATTEMPT_STATE_LOST'], [2, 'ATTEMPT_STATE_SUCCEEDED']]);
    expect(attempts[0]?.reason).toBe('LOST');
  }, 90_000);

  it('reports the attempt of a killed executor LOST even when no executor comes back, then retries it', async () => {
    const source = `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: orphaned}
spec:
  tasks:
    - {name: slow, command: ["sh", "-c", "sleep 2; echo done"], retries: 1, retryDelay: 0s}
`;
    await api.ok('POST', '/v1/workflows:apply', { source, fileName: 'orphaned.yaml' });
    const { run } = await api.ok<{ run: { runId: string } }>('POST', '/v1/workflows/orphaned/runs', { params: {} });
    const tasks = async () => (await api.ok<{ taskRuns: TaskRunJson[] }>('GET', `/v1/workflows/orphaned/runs/${run.runId}/tasks`)).taskRuns[0];
    for (let i = 0; (await tasks())?.state !== 'TASK_RUN_STATE_RUNNING'; i++) {
      if (i > 400) throw new Error('task never started');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await stack.kill('executor', 'SIGKILL');
    const killedAt = Date.now();
    for (let i = 0; (await tasks())?.attempts[0]?.state !== 'ATTEMPT_STATE_LOST'; i++) {
      if (i > 600) throw new Error(`attempt never reported LOST: ${JSON.stringify(await tasks())}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect((await tasks())?.attempts[0]?.reason).toBe('LOST');
    await stack.restart('executor');
    expect((await api.waitForRun('orphaned', run.runId, 60_000)).state).toBe('RUN_STATE_SUCCEEDED');
    expect((await tasks())?.attempts.map((a) => a.state)).toEqual(['ATTEMPT_STATE_LOST', 'ATTEMPT_STATE_SUCCEEDED']);
  }, 90_000);
  it('holds a pool\'s limit across runs: tasks wait in SCHEDULED, then start by priority (examples/pools.yaml)', async () => {
    const source = readFileSync(path.join(repoRoot, 'examples', 'pools.yaml'), 'utf8');
    const [poolDoc, workflowDoc] = source.split(/^---$/m) as [string, string];
    await api.ok('POST', '/v1/pools:apply', { source: poolDoc, fileName: 'pools.yaml' });
    await api.ok('POST', '/v1/workflows:apply', { source: workflowDoc, fileName: 'pools.yaml' });
    const runs = [];
    for (let i = 0; i < 2; i++) runs.push((await api.ok<{ run: { runId: string } }>('POST', '/v1/workflows/warehouse-load/runs', {})).run.runId);
    let sawWaiting: TaskRunJson & { waitingFor?: string } | undefined;
    for (let i = 0; i < 400 && !sawWaiting; i++) {
      const { taskRuns } = await api.ok<{ taskRuns: (TaskRunJson & { waitingFor?: string })[] }>('GET', `/v1/workflows/warehouse-load/runs/${runs[1]}/tasks`);
      sawWaiting = taskRuns.find((t) => t.state === 'TASK_RUN_STATE_SCHEDULED' && t.task.startsWith('load-'));
      if (!sawWaiting) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(sawWaiting?.waitingFor).toMatch(/^pool warehouse( \(2 slots\))? and maxActiveTasks 4$/);
    // Every attempt's [start, end) in the pool, over both runs: never more than 2 slots in use.
    const intervals: { start: number; end: number; slots: number; task: string; run: string }[] = [];
    for (const runId of runs) {
      expect((await api.waitForRun('warehouse-load', runId)).state).toBe('RUN_STATE_SUCCEEDED');
      const { taskRuns } = await api.ok<{ taskRuns: { task: string; attempts: { startTime: string; endTime: string }[] }[] }>(
        'GET', `/v1/workflows/warehouse-load/runs/${runId}/tasks`);
      for (const t of taskRuns.filter((x) => x.task.startsWith('load-'))) {
        const a = t.attempts[0] as { startTime: string; endTime: string };
        intervals.push({ start: Date.parse(a.startTime), end: Date.parse(a.endTime), slots: t.task === 'load-events' ? 2 : 1, task: t.task, run: runId });
      }
    }
    const edges = intervals.flatMap((x) => [{ at: x.start, delta: x.slots }, { at: x.end, delta: -x.slots }]).sort((a, b) => a.at - b.at || a.delta - b.delta);
    let used = 0;
    let peak = 0;
    for (const edge of edges) peak = Math.max(peak, (used += edge.delta));
    expect(peak).toBeLessThanOrEqual(2);
    expect(intervals).toHaveLength(8);
    const pool = await api.ok<{ pool: { usedSlots?: number; waitingTasks?: number } }>('GET', '/v1/pools/warehouse');
    expect(pool.pool.usedSlots ?? 0).toBe(0);
    expect(pool.pool.waitingTasks ?? 0).toBe(0);
  }, 60_000);
});
