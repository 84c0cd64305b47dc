import type { Pool } from 'pg';
import pino from 'pino';
import { createInProcessBus, subjects, type Bus, type Subscription } from '@skein/bus';
import { parseWorkflowFile, type ParamValue } from '@skein/domain';
import { ExecutorHeartbeat, TaskDispatch, TaskEvent } from '@skein/proto';
import { applyPool, applyWorkflow, createPool, encodeOutboxBatch, getRun, insertOutbox, listRunAttempts, listTaskRuns, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { Scheduler } from './scheduler';

const logger = pino({ level: 'silent' });

/** Plays an executor: answers each dispatch with the outcome `script` picks. */
type Outcome = { ok: true; outputs?: Record<string, unknown> } | { ok: false; exitCode?: number; reason?: string };

class ScriptedExecutor {
  readonly dispatches: TaskDispatch[] = [];
  private subscription: Subscription | undefined;

  constructor(private readonly bus: Bus, private readonly script: (d: TaskDispatch) => Outcome | 'hold') {}

  async start(): Promise<void> {
    this.subscription = await this.bus.consume({ stream: 'dispatch', durable: 'scripted', ackWaitMs: 60_000 }, async (message) => {
      const dispatch = TaskDispatch.decode(message.data);
      this.dispatches.push(dispatch);
      const outcome = this.script(dispatch);
      await message.ack();
      if (outcome !== 'hold') await this.finish(dispatch, outcome);
    });
  }

  async finish(d: TaskDispatch, outcome: Outcome): Promise<void> {
    const now = new Date();
    await this.bus.publish(subjects.event(d.runId), TaskEvent.encode(TaskEvent.fromPartial({
      attemptId: d.attemptId, runId: d.runId, task: d.task, attempt: d.attempt, executor: 'scripted', time: now,
      kind: outcome.ok
        ? { $case: 'succeeded', succeeded: { startTime: now, endTime: now, exitCode: 0, outputsJson: outcome.outputs ? JSON.stringify(outcome.outputs) : '' } }
        : { $case: 'failed', failed: { startTime: now, endTime: now, exitCode: outcome.exitCode ?? 1, reason: outcome.reason ?? 'EXIT_CODE', message: 'scripted failure' } },
    })).finish());
  }

  async stop(): Promise<void> {
    await this.subscription?.drain();
  }
}

function workflowYaml(name: string, tasks: string): string {
  return `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata:\n  name: ${name}\nspec:\n  tasks:\n${tasks}`;
}

const diamondTasks = `    - {name: a, command: ["true"]}
    - {name: b, command: ["true"], dependsOn: [a]}
    - {name: c, command: ["true"], dependsOn: [a]}
    - {name: d, command: ["true"], dependsOn: [b, c]}
`;

describe('Scheduler', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  let scheduler: Scheduler;
  let executor: ScriptedExecutor | undefined;
  const ended = new Map<string, () => void>();

  async function apply(yaml: string): Promise<void> {
    const parsed = parseWorkflowFile(yaml, 'test.yaml');
    expect(parsed.errors).toEqual([]);
    for (const w of parsed.workflows) await applyWorkflow(pool, w.spec, w.digest);
  }

  async function runToEnd(workflowId: string, params: Record<string, ParamValue> = {}): Promise<string> {
    let resolveEnded!: () => void;
    const done = new Promise<void>((resolve) => { resolveEnded = resolve; });
    const { runId } = await scheduler.createRun({ workflowId, params, trigger: 'manual' });
    ended.set(runId, resolveEnded);
    const run = await getRun(pool, runId);
    if (run && ['succeeded', 'failed', 'cancelled'].includes(run.state)) return runId;
    await done;
    return runId;
  }

  async function taskStates(runId: string): Promise<Record<string, string>> {
    return Object.fromEntries((await listTaskRuns(pool, runId)).map((t) => [t.task, t.state]));
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
  });

  beforeEach(async () => {
    bus = createInProcessBus();
    await bus.ensureStreams();
    scheduler = new Scheduler({ pool, bus, logger, onRunEnded: (runId) => ended.get(runId)?.() });
    await scheduler.start();
  });

  afterEach(async () => {
    await executor?.stop();
    executor = undefined;
    await scheduler.stop();
    await bus.close();
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('runs a diamond in dependency order and succeeds', async () => {
    await apply(workflowYaml('diamond', diamondTasks));
    executor = new ScriptedExecutor(bus, () => ({ ok: true }));
    await executor.start();
    const runId = await runToEnd('diamond');
    expect((await getRun(pool, runId))?.state).toBe('succeeded');
    expect(await taskStates(runId)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' });
    const order = executor.dispatches.map((d) => d.task);
    expect(order[0]).toBe('a');
    expect(order[3]).toBe('d');
    expect(new Set(order)).toEqual(new Set(['a', 'b', 'c', 'd']));
    const first = executor.dispatches[0] as TaskDispatch;
    expect(first.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(first.workflowVersion).toBe(1);
  });

  it('marks downstream tasks upstream_failed and fails the run, naming the failed task', async () => {
    await apply(workflowYaml('fails', diamondTasks));
    executor = new ScriptedExecutor(bus, (d) => (d.task === 'b' ? { ok: false, exitCode: 3 } : { ok: true }));
    await executor.start();
    const runId = await runToEnd('fails');
    const run = await getRun(pool, runId);
    expect(run?.state).toBe('failed');
    expect(run?.reason).toContain('b');
    expect(await taskStates(runId)).toEqual({ a: 'succeeded', b: 'failed', c: 'succeeded', d: 'upstream_failed' });
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.find((a) => a.task === 'b')).toMatchObject({ state: 'failed', exitCode: 3, reason: 'EXIT_CODE' });
  });

  it('retries a failed task and keeps every attempt', async () => {
    await apply(workflowYaml('retry', `    - {name: a, command: ["true"], retries: 2, retryDelay: 0s}\n`));
    executor = new ScriptedExecutor(bus, (d) => (d.attempt < 3 ? { ok: false } : { ok: true }));
    await executor.start();
    const runId = await runToEnd('retry');
    expect((await getRun(pool, runId))?.state).toBe('succeeded');
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.map((a) => [a.number, a.state])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'succeeded']]);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(3);
  });

  it('waits out a retry delay in up_for_retry', async () => {
    await apply(workflowYaml('delayed', `    - {name: a, command: ["true"], retries: 1, retryDelay: 300ms}\n`));
    let sawUpForRetry = false;
    executor = new ScriptedExecutor(bus, (d) => (d.attempt === 1 ? { ok: false } : { ok: true }));
    await executor.start();
    const { runId } = await scheduler.createRun({ workflowId: 'delayed', params: {}, trigger: 'manual' });
    const done = new Promise<void>((resolve) => ended.set(runId, resolve));
    for (let i = 0; i < 200 && !sawUpForRetry; i++) {
      const tasks = await listTaskRuns(pool, runId);
      if (tasks[0]?.state === 'up_for_retry') {
        sawUpForRetry = true;
        expect(tasks[0].retryAt).toBeInstanceOf(Date);
      } else {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    expect(sawUpForRetry).toBe(true);
    await done;
    expect((await getRun(pool, runId))?.state).toBe('succeeded');
  });

  it('re-dispatches an attempt lost before it started without using a retry, but counts one lost while running', async () => {
    await apply(workflowYaml('unstarted', `    - {name: a, command: ["true"]}\n    - {name: b, command: ["true"]}\n`));
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => { held.push(d); return 'hold'; });
    await executor.start();
    const { runId } = await scheduler.createRun({ workflowId: 'unstarted', params: {}, trigger: 'manual' });
    const done = new Promise<void>((resolve) => ended.set(runId, resolve));
    const waitFor = async (n: number) => {
      for (let i = 0; i < 500 && held.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      return held;
    };
    await waitFor(2);
    const a1 = held.find((d) => d.task === 'a') as TaskDispatch;
    const b1 = held.find((d) => d.task === 'b') as TaskDispatch;
    // a: handed back and reported LOST by another executor before anyone started it.
    await executor.finish(a1, { ok: false, reason: 'LOST' });
    // b: started, then its executor died.
    await bus.publish(subjects.event(b1.runId), TaskEvent.encode(TaskEvent.fromPartial({
      attemptId: b1.attemptId, runId: b1.runId, task: 'b', attempt: 1, executor: 'x', time: new Date(),
      kind: { $case: 'started', started: { startTime: new Date() } },
    })).finish());
    await executor.finish(b1, { ok: false, reason: 'LOST' });
    await waitFor(3);
    const a2 = held[2] as TaskDispatch;
    expect([a2.task, a2.attempt]).toEqual(['a', 2]);
    await executor.finish(a2, { ok: true });
    await done;
    expect(await taskStates(runId)).toEqual({ a: 'succeeded', b: 'failed' });
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.map((x) => [x.task, x.number, x.state])).toEqual([['a', 1, 'lost'], ['a', 2, 'succeeded'], ['b', 1, 'lost']]);
  });

  it('cancels a run: running and pending tasks end CANCELLED, executors are told, later events change nothing', async () => {
    await apply(workflowYaml('cancellable', `    - {name: a, command: ["sleep", "60"]}\n    - {name: b, command: ["true"], dependsOn: [a]}\n    - {name: c, command: ["true"]}\n`));
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => (d.task === 'c' ? { ok: true } : (held.push(d), 'hold')));
    await executor.start();
    const stops: string[] = [];
    const stopSubscription = bus.subscribeCore('skein.cancel.*', (subject) => stops.push(subject));
    const { runId } = await scheduler.createRun({ workflowId: 'cancellable', params: {}, trigger: 'manual' });
    for (let i = 0; i < 500 && (held.length < 1 || (await taskStates(runId))['c'] !== 'succeeded'); i++) await new Promise((r) => setTimeout(r, 10));
    const a1 = held[0] as TaskDispatch;
    expect(await scheduler.cancelRun(runId, 'changed my mind')).toEqual({ cancelled: true });
    expect(await taskStates(runId)).toEqual({ a: 'cancelled', b: 'cancelled', c: 'succeeded' });
    expect(await getRun(pool, runId)).toMatchObject({ state: 'cancelled', reason: 'changed my mind', unfinishedTasks: 0 });
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.find((x) => x.task === 'a')).toMatchObject({ state: 'cancelled', reason: 'CANCELLED' });
    for (let i = 0; i < 100 && stops.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(stops).toEqual([`skein.cancel.${a1.attemptId}`]);
    // The executor reports the kill; the run stays cancelled.
    await executor.finish(a1, { ok: false, reason: 'CANCELLED' });
    await new Promise((r) => setTimeout(r, 50));
    expect((await getRun(pool, runId))?.state).toBe('cancelled');
    expect(await scheduler.cancelRun(runId, 'again')).toEqual({ cancelled: false });
    await stopSubscription.drain();
  });

  it('ignores repeated and stale events', async () => {
    await apply(workflowYaml('fenced', `    - {name: a, command: ["true"], retries: 1, retryDelay: 0s}\n    - {name: b, command: ["true"], dependsOn: [a]}\n`));
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => {
      held.push(d);
      return 'hold';
    });
    await executor.start();
    const { runId } = await scheduler.createRun({ workflowId: 'fenced', params: {}, trigger: 'manual' });
    const done = new Promise<void>((resolve) => ended.set(runId, resolve));
    const waitFor = async (n: number) => {
      for (let i = 0; i < 500 && held.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      return held[n - 1] as TaskDispatch;
    };
    const a1 = await waitFor(1);
    await executor.finish(a1, { ok: false });
    const a2 = await waitFor(2);
    expect([a2.task, a2.attempt]).toEqual(['a', 2]);
    // A late success of attempt 1 must not complete the task: attempt 2 is current.
    await executor.finish(a1, { ok: true });
    await executor.finish(a2, { ok: true });
    await executor.finish(a2, { ok: true });
    const b = await waitFor(3);
    await executor.finish(b, { ok: true });
    await done;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.map((a) => [a.task, a.number, a.state])).toEqual([['a', 1, 'failed'], ['a', 2, 'succeeded'], ['b', 1, 'succeeded']]);
    expect(held).toHaveLength(3);
  });

  it('renders upstream outputs and params into downstream dispatches', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: templated}
spec:
  params: {season: {type: string, default: "2026"}}
  tasks:
    - {name: count, command: ["true"]}
    - name: report
      command: ["echo"]
      args: ["rows={{ tasks.count.outputs.rows }}", "season={{ params.season }}", "run={{ run.id }}"]
      dependsOn: [count]
`);
    executor = new ScriptedExecutor(bus, (d) => ({ ok: true, outputs: d.task === 'count' ? { rows: 42 } : undefined }));
    await executor.start();
    const runId = await runToEnd('templated', { season: '2027' });
    const report = executor.dispatches.find((d) => d.task === 'report');
    expect(report?.args).toEqual(['rows=42', 'season=2027', `run=${runId}`]);
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.find((a) => a.task === 'count')?.outputs).toEqual({ rows: 42 });
  });

  it('runs an allDone task after a failure', async () => {
    await apply(workflowYaml('cleanup', `    - {name: work, command: ["false"]}\n    - {name: cleanup, command: ["true"], dependsOn: [work], triggerRule: allDone}\n`));
    executor = new ScriptedExecutor(bus, (d) => (d.task === 'work' ? { ok: false } : { ok: true }));
    await executor.start();
    const runId = await runToEnd('cleanup');
    expect(await taskStates(runId)).toEqual({ work: 'failed', cleanup: 'succeeded' });
    expect((await getRun(pool, runId))?.state).toBe('failed');
  });

  it('fans out to 100 tasks and back in, evaluating the fan-in from upstream counts', async () => {
    const workers = Array.from({ length: 100 }, (_, i) => `w${i}`);
    await apply(workflowYaml('fan', [
      '    - {name: src, command: ["true"]}',
      ...workers.map((w) => `    - {name: ${w}, command: ["true"], dependsOn: [src]}`),
      `    - {name: sink, command: ["true"], dependsOn: [${workers.join(', ')}]}`,
    ].join('\n') + '\n'));
    executor = new ScriptedExecutor(bus, (d) => (d.task === 'w37' ? { ok: false } : { ok: true }));
    await executor.start();
    const runId = await runToEnd('fan');
    const states = await taskStates(runId);
    expect(states['sink']).toBe('upstream_failed');
    expect(states['w37']).toBe('failed');
    expect(Object.values(states).filter((s) => s === 'succeeded')).toHaveLength(100);
    const run = await getRun(pool, runId);
    expect(run).toMatchObject({ state: 'failed', reason: 'failed tasks: w37', unfinishedTasks: 0, failedTasks: 2 });
    expect(executor.dispatches.filter((d) => d.task === 'sink')).toHaveLength(0);
  });

  it('cascades upstream failures and skips through tasks it has to load, and runs an allDone task at the end', async () => {
    await apply(workflowYaml('cascade', `    - {name: a, command: ["false"]}
    - {name: b, command: ["true"], dependsOn: [a]}
    - {name: c, command: ["true"], dependsOn: [b]}
    - {name: d, command: ["true"], dependsOn: [c], triggerRule: allDone}
    - {name: e, command: ["true"], triggerRule: allFailed, dependsOn: [d]}
    - {name: f, command: ["true"], dependsOn: [e]}
`));
    executor = new ScriptedExecutor(bus, (d) => (d.task === 'a' ? { ok: false } : { ok: true }));
    await executor.start();
    const runId = await runToEnd('cascade');
    expect(await taskStates(runId)).toEqual({ a: 'failed', b: 'upstream_failed', c: 'upstream_failed', d: 'succeeded', e: 'skipped', f: 'skipped' });
    expect(await getRun(pool, runId)).toMatchObject({ state: 'failed', unfinishedTasks: 0 });
  });

  it('holds runs beyond maxActiveRuns in QUEUED and starts them in logical-date order as slots free', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: limited}
spec:
  maxActiveRuns: 1
  tasks:
    - {name: a, command: ["true"]}
`);
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => { held.push(d); return 'hold'; });
    await executor.start();
    const create = (iso: string) => scheduler.createRun({ workflowId: 'limited', params: {}, trigger: 'api', logicalDate: new Date(iso) });
    const first = await create('2026-01-03T00:00:00Z');
    const late = await create('2026-01-02T00:00:00Z');
    const early = await create('2026-01-01T00:00:00Z');
    const waitForHeld = async (n: number) => {
      for (let i = 0; i < 500 && held.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(held).toHaveLength(n);
      return held[n - 1] as TaskDispatch;
    };
    expect((await waitForHeld(1)).runId).toBe(first.runId);
    expect(await getRun(pool, early.runId)).toMatchObject({ state: 'queued', admitted: false });
    expect(await listRunAttempts(pool, early.runId)).toEqual([]);
    await executor.finish(held[0] as TaskDispatch, { ok: true });
    // The earliest logical date goes first, not the first created.
    const second = await waitForHeld(2);
    expect(second.runId).toBe(early.runId);
    expect(await getRun(pool, late.runId)).toMatchObject({ state: 'queued', admitted: false });
    await executor.finish(second, { ok: true });
    const third = await waitForHeld(3);
    expect(third.runId).toBe(late.runId);
    await executor.finish(third, { ok: true });
    for (let i = 0; i < 200 && (await getRun(pool, late.runId))?.state !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await getRun(pool, late.runId))?.state).toBe('succeeded');
  });

  it('limits a backfill\'s own active runs (--max-active) without holding back other runs of the workflow', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: backfilled}
spec:
  schedule: "@daily"
  tasks:
    - {name: a, command: ["true"]}
`);
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => { held.push(d); return 'hold'; });
    await executor.start();
    const days = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05'].map((d) => new Date(`${d}T00:00:00Z`));
    const { runIds } = await scheduler.backfill('backfilled', days, {}, false, 2);
    const waitForHeld = async (n: number) => {
      for (let i = 0; i < 500 && held.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(held).toHaveLength(n);
    };
    await waitForHeld(2);
    expect(held.map((d) => d.runId)).toEqual(runIds.slice(0, 2));
    expect(await getRun(pool, runIds[2] as string)).toMatchObject({ state: 'queued', admitted: false });
    // A manual run of the same workflow is not held back by the backfill's limit.
    const manual = await scheduler.createRun({ workflowId: 'backfilled', params: {}, trigger: 'manual' });
    await waitForHeld(3);
    expect(held[2]?.runId).toBe(manual.runId);
    // As each backfill run ends, the next in logical-date order starts: never more than 2 at once.
    const finished = new Set<string>();
    for (let n = 3; n < 6; n++) {
      const next = held.find((d) => runIds.includes(d.runId) && !finished.has(d.attemptId)) as TaskDispatch;
      finished.add(next.attemptId);
      await executor.finish(next, { ok: true });
      await waitForHeld(n + 1);
      expect(held[n]?.runId).toBe(runIds[n - 1]);
    }
  });

  it('admits a waiting run in the periodic sweep when the scheduler that ended the last one died first', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: orphaned}
spec:
  maxActiveRuns: 1
  tasks:
    - {name: a, command: ["true"]}
`);
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => { held.push(d); return 'hold'; });
    await executor.start();
    const holder = await scheduler.createRun({ workflowId: 'orphaned', params: {}, trigger: 'api' });
    const waiting = await scheduler.createRun({ workflowId: 'orphaned', params: {}, trigger: 'api' });
    expect(await getRun(pool, waiting.runId)).toMatchObject({ state: 'queued', admitted: false });
    // The holder ended, but its scheduler died before admitting the next run.
    await pool.query(`UPDATE runs SET state = 'succeeded', end_time = now() WHERE id = $1`, [holder.runId]);
    await scheduler.stop();
    scheduler = new Scheduler({ pool, bus, logger, admissionSweepIntervalMs: 100 });
    await scheduler.start();
    for (let i = 0; i < 300 && !held.some((d) => d.runId === waiting.runId); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await getRun(pool, waiting.runId)).toMatchObject({ state: 'queued', admitted: true });
    expect(held.filter((d) => d.runId === waiting.runId).map((d) => d.task)).toEqual(['a']);
  });

  it('retries an ended run: failed tasks and their downstream run again in the same run, attempts kept', async () => {
    await apply(workflowYaml('retryable', diamondTasks));
    let failB = true;
    executor = new ScriptedExecutor(bus, (d) => (d.task === 'b' && failB ? { ok: false, exitCode: 2 } : { ok: true }));
    await executor.start();
    const runId = await runToEnd('retryable');
    expect(await taskStates(runId)).toEqual({ a: 'succeeded', b: 'failed', c: 'succeeded', d: 'upstream_failed' });
    await expect(scheduler.retryRun(runId, 'nope')).rejects.toThrow(/task "nope of run/);
    failB = false;
    const done = new Promise<void>((resolve) => ended.set(runId, resolve));
    expect(await scheduler.retryRun(runId)).toEqual({ tasks: ['b', 'd'] });
    expect((await getRun(pool, runId))?.state).not.toBe('failed');
    await done;
    expect(await getRun(pool, runId)).toMatchObject({ state: 'succeeded', reason: '', unfinishedTasks: 0, failedTasks: 0 });
    expect(await taskStates(runId)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' });
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.filter((x) => x.task === 'b').map((x) => [x.number, x.state])).toEqual([[1, 'failed'], [2, 'succeeded']]);

    // A chosen task (here one that succeeded) and its downstream run again.
    const again = new Promise<void>((resolve) => ended.set(runId, resolve));
    expect(await scheduler.retryRun(runId, 'c')).toEqual({ tasks: ['c', 'd'] });
    await again;
    expect((await listRunAttempts(pool, runId)).filter((x) => x.task === 'd').map((x) => x.number)).toEqual([1, 2]);
    expect(await scheduler.retryRun(runId)).toEqual({ tasks: [] });
  });

  it('refuses to retry a run that has not ended', async () => {
    await apply(workflowYaml('unfinished', `    - {name: a, command: ["true"]}\n`));
    executor = new ScriptedExecutor(bus, () => 'hold');
    await executor.start();
    const { runId } = await scheduler.createRun({ workflowId: 'unfinished', params: {}, trigger: 'manual' });
    await expect(scheduler.retryRun(runId)).rejects.toMatchObject({ name: 'RunNotEndedError' });
  });

  it('fails an attempt no executor takes in time with QUEUED_TIMEOUT, applies retries, and cancels the old dispatch', async () => {
    await apply(workflowYaml('orphan-queue', `    - {name: a, command: ["true"], queue: nobody, retries: 1, retryDelay: 0s}\n`));
    await scheduler.stop();
    scheduler = new Scheduler({ pool, bus, logger, queuedTimeoutMs: 300, queuedTimeoutSweepIntervalMs: 50, onRunEnded: (id) => ended.get(id)?.() });
    await scheduler.start();
    const cancels: string[] = [];
    const watch = bus.subscribeCore('skein.cancel.*', (subject) => cancels.push(subject));
    const runId = await runToEnd('orphan-queue');
    expect(await getRun(pool, runId)).toMatchObject({ state: 'failed', reason: 'failed tasks: a' });
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.map((x) => [x.number, x.state, x.reason])).toEqual([[1, 'failed', 'QUEUED_TIMEOUT'], [2, 'failed', 'QUEUED_TIMEOUT']]);
    expect(attempts[0]?.message).toMatch(/no executor took the task within 0s/);
    expect(cancels).toEqual(expect.arrayContaining(attempts.map((x) => `skein.cancel.${x.id}`)));
    await watch.drain();
  });

  it('applies a task\'s own queuedTimeout (from admission, for a pooled task) instead of the scheduler\'s default', async () => {
    await applyPool(pool, { apiVersion: 'skein.dev/v1', kind: 'Pool', metadata: { name: 'qt-pool', labels: {} }, spec: { slots: 1 } });
    await apply(workflowYaml('own-queue-timeout', `    - {name: quick, command: ["true"], queue: nobody, queuedTimeout: 300ms}
    - {name: pooled, command: ["true"], queue: nobody, queuedTimeout: 300ms, pool: qt-pool}
    - {name: patient, command: ["true"], queue: nobody}
`));
    await scheduler.stop();
    // The default (1 h) would never fire in this test: only the tasks' own timeouts can.
    scheduler = new Scheduler({ pool, bus, logger, queuedTimeoutSweepIntervalMs: 50, onRunEnded: (id) => ended.get(id)?.() });
    await scheduler.start();
    const { runId } = await scheduler.createRun({ workflowId: 'own-queue-timeout', params: {}, trigger: 'manual' });
    for (let i = 0; i < 200; i++) {
      const states = await taskStates(runId);
      if (states['quick'] === 'failed' && states['pooled'] === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(await taskStates(runId)).toEqual({ quick: 'failed', pooled: 'failed', patient: 'queued' });
    const attempts = await listRunAttempts(pool, runId);
    const timedOut = attempts.filter((a) => a.task !== 'patient').map((a) => [a.task, a.reason, a.message]);
    expect(timedOut).toHaveLength(2);
    expect(timedOut).toEqual(expect.arrayContaining([
      ['quick', 'QUEUED_TIMEOUT', expect.stringMatching(/within 0s/)], ['pooled', 'QUEUED_TIMEOUT', expect.stringMatching(/within 0s/)],
    ]));
    await scheduler.cancelRun(runId, 'test over');
  });

  it('renders an object param and its keys into the dispatched command', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: object-param}
spec:
  params:
    filters: {type: object, default: {region: eu}}
  tasks:
    - {name: a, command: ["echo", "{{ params.filters.region }}", "{{ params.filters }}"]}
`);
    executor = new ScriptedExecutor(bus, () => ({ ok: true }));
    await executor.start();
    const runId = await runToEnd('object-param', { filters: { region: 'us', limit: 5 } });
    expect((await getRun(pool, runId))?.params).toEqual({ filters: { region: 'us', limit: 5 } });
    expect(executor.dispatches[0]?.command).toEqual(['echo', 'us', '{"limit":5,"region":"us"}']);
  });

  it('fails a run it cannot process, with the reason, and keeps applying other runs', async () => {
    await apply(workflowYaml('broken', `    - {name: a, command: ["true"]}\n    - {name: b, command: ["true"], dependsOn: [a]}\n`));
    await apply(workflowYaml('healthy', `    - {name: a, command: ["true"]}\n`));
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => (d.workflow === 'broken' ? (held.push(d), 'hold') : { ok: true }));
    await executor.start();
    const { runId } = await scheduler.createRun({ workflowId: 'broken', params: {}, trigger: 'manual' });
    for (let i = 0; i < 200 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    // A spec this scheduler cannot read (as if a newer Skein wrote it); a fresh scheduler has no cached graph.
    await pool.query(`UPDATE workflow_versions SET spec = '{"apiVersion": "skein.dev/v2"}' WHERE workflow_id = 'broken'`);
    await scheduler.stop();
    scheduler = new Scheduler({ pool, bus, logger, onRunEnded: (id) => ended.get(id)?.() });
    await scheduler.start();
    await executor.finish(held[0] as TaskDispatch, { ok: true });
    for (let i = 0; i < 300 && (await getRun(pool, runId))?.state !== 'failed'; i++) await new Promise((r) => setTimeout(r, 50));
    const run = await getRun(pool, runId);
    expect(run?.state).toBe('failed');
    expect(run?.reason).toMatch(/^the scheduler could not process this run: /);
    expect(await taskStates(runId)).toMatchObject({ b: 'cancelled' });
    // The scheduler goes on with other runs.
    expect((await getRun(pool, await runToEnd('healthy')))?.state).toBe('succeeded');
  }, 30_000);

  it('reports a running attempt LOST when no executor names it in a heartbeat, and keeps one that is named', async () => {
    await apply(workflowYaml('heartbeats', `    - {name: silent, command: ["true"], retries: 1, retryDelay: 0s}\n    - {name: alive, command: ["true"]}\n`));
    await scheduler.stop();
    scheduler = new Scheduler({ pool, bus, logger, lostAfterMs: 400, lostSweepIntervalMs: 50, onRunEnded: (id) => ended.get(id)?.() });
    await scheduler.start();
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => { held.push(d); return 'hold'; });
    await executor.start();
    const { runId } = await scheduler.createRun({ workflowId: 'heartbeats', params: {}, trigger: 'manual' });
    const done = new Promise<void>((resolve) => ended.set(runId, resolve));
    for (let i = 0; i < 300 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    for (const d of held) {
      await bus.publish(subjects.event(d.runId), TaskEvent.encode(TaskEvent.fromPartial({
        attemptId: d.attemptId, runId: d.runId, task: d.task, attempt: d.attempt, executor: 'x', time: new Date(),
        kind: { $case: 'started', started: { startTime: new Date() } },
      })).finish());
    }
    const alive = held.find((d) => d.task === 'alive') as TaskDispatch;
    const beats = setInterval(() => bus.publishCore(subjects.heartbeat('x'), ExecutorHeartbeat.encode(ExecutorHeartbeat.fromPartial({ executor: 'x', attemptIds: [alive.attemptId] })).finish()), 50);
    try {
      // `silent` is lost and retried; `alive` keeps running as long as it is named.
      for (let i = 0; i < 300 && held.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      const retry = held[2] as TaskDispatch;
      expect([retry.task, retry.attempt]).toEqual(['silent', 2]);
      await new Promise((r) => setTimeout(r, 600));
      expect((await taskStates(runId))['alive']).toBe('running');
      await executor.finish(retry, { ok: true });
      await executor.finish(alive, { ok: true });
    } finally {
      clearInterval(beats);
    }
    await done;
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.map((x) => [x.task, x.number, x.state])).toEqual([['alive', 1, 'succeeded'], ['silent', 1, 'lost'], ['silent', 2, 'succeeded']]);
    expect(attempts.find((x) => x.task === 'silent')?.message).toMatch(/no heartbeat from executor x for 0s/);
  });

  it('fails a run that outlives its timeout, stopping its running tasks', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: bounded}
spec:
  timeout: 300ms
  tasks:
    - {name: quick, command: ["true"]}
    - {name: slow, command: ["sleep", "60"], dependsOn: [quick]}
`);
    await scheduler.stop();
    scheduler = new Scheduler({ pool, bus, logger, runTimeoutSweepIntervalMs: 50, onRunEnded: (id) => ended.get(id)?.() });
    await scheduler.start();
    executor = new ScriptedExecutor(bus, (d) => (d.task === 'quick' ? { ok: true } : 'hold'));
    await executor.start();
    const stops: string[] = [];
    const watch = bus.subscribeCore('skein.cancel.*', (subject) => stops.push(subject));
    const runId = await runToEnd('bounded');
    const run = await getRun(pool, runId);
    expect(run?.state).toBe('failed');
    expect(run?.reason).toBe('RUN_TIMEOUT: the run did not finish within its timeout of 300ms');
    expect(await taskStates(runId)).toEqual({ quick: 'succeeded', slow: 'cancelled' });
    const slow = (await listRunAttempts(pool, runId)).find((x) => x.task === 'slow');
    for (let i = 0; i < 100 && stops.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(stops).toEqual([`skein.cancel.${slow?.id}`]);
    await watch.drain();
  });

  it('skips a task whose when: is false, and runs one whose condition holds, from params and upstream outputs', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: conditional}
spec:
  params: {shout: {type: boolean, default: false}}
  tasks:
    - {name: count, command: ["true"]}
    - {name: load, command: ["true"], dependsOn: [count], when: "{{ tasks.count.outputs.rows }} > 0"}
    - {name: shout, command: ["true"], when: "{{ params.shout }}"}
    - {name: after-shout, command: ["true"], dependsOn: [shout]}
    - {name: report, command: ["true"], dependsOn: [load]}
`);
    executor = new ScriptedExecutor(bus, (d) => ({ ok: true, outputs: d.task === 'count' ? { rows: 3 } : undefined }));
    await executor.start();
    const quiet = await runToEnd('conditional', { shout: false });
    expect(await taskStates(quiet)).toEqual({ count: 'succeeded', load: 'succeeded', shout: 'skipped', 'after-shout': 'skipped', report: 'succeeded' });
    expect((await getRun(pool, quiet))?.state).toBe('succeeded');
    expect((await listRunAttempts(pool, quiet)).map((a) => a.task).sort()).toEqual(['count', 'load', 'report']);
    const loud = await runToEnd('conditional', { shout: true });
    expect(await taskStates(loud)).toMatchObject({ shout: 'succeeded', 'after-shout': 'succeeded' });
  });

  it('gives a scheduled run its data interval, in templates and in the dispatch; a manual run its logical date', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: hourly}
spec:
  schedule: "@hourly"
  startDate: "2030-01-01T00:00:00Z"
  tasks:
    - {name: load, command: ["echo"], args: ["{{ run.dataInterval.start }}", "{{ run.dataInterval.end }}"]}
`);
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => { held.push(d); return 'hold'; });
    await executor.start();
    expect(await scheduler.createScheduledRun('hourly', {}, new Date('2026-05-01T10:00:00Z'))).toBe(true);
    await scheduler.createRun({ workflowId: 'hourly', params: {}, trigger: 'manual', logicalDate: new Date('2026-05-01T10:30:00Z') });
    for (let i = 0; i < 300 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const [scheduled, manual] = [...held].sort((a, b) => (a.logicalDate?.getTime() ?? 0) - (b.logicalDate?.getTime() ?? 0));
    expect(scheduled?.args).toEqual(['2026-05-01T10:00:00.000Z', '2026-05-01T11:00:00.000Z']);
    expect([scheduled?.dataIntervalStart?.toISOString(), scheduled?.dataIntervalEnd?.toISOString()]).toEqual(['2026-05-01T10:00:00.000Z', '2026-05-01T11:00:00.000Z']);
    expect(manual?.args).toEqual(['2026-05-01T10:30:00.000Z', '2026-05-01T10:30:00.000Z']);
  });

  it('pins a run to the version it started with', async () => {
    await apply(workflowYaml('pinned', `    - {name: a, command: ["echo", "v1"]}\n`));
    const held: TaskDispatch[] = [];
    executor = new ScriptedExecutor(bus, (d) => { held.push(d); return 'hold'; });
    await executor.start();
    const { runId } = await scheduler.createRun({ workflowId: 'pinned', params: {}, trigger: 'manual' });
    await apply(workflowYaml('pinned', `    - {name: a, command: ["echo", "v2"]}\n`));
    for (let i = 0; i < 500 && held.length < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(held[0]?.command).toEqual(['echo', 'v1']);
    expect((await getRun(pool, runId))?.workflowVersion).toBe(1);
  });

  it('re-publishes outbox rows a dead scheduler committed but never sent, one message or a batch', async () => {
    const dispatch = (attemptId: string) => ({
      subject: subjects.dispatch('default'), msgId: attemptId, headers: {},
      payload: TaskDispatch.encode(TaskDispatch.fromPartial({ attemptId, runId: 'r', task: 't', attempt: 1 })).finish(),
    });
    await insertOutbox(pool, [dispatch('orphan')]);
    await pool.query(`INSERT INTO outbox (subject, msg_id, payload, headers, batch) VALUES ('', '', $1, '{}', true)`,
      [encodeOutboxBatch(['orphan-b1', 'orphan-b2', 'orphan-b3'].map(dispatch))]);
    await pool.query(`UPDATE outbox SET create_time = now() - interval '1 minute'`);
    const got: string[] = [];
    const received = new Promise<string[]>((resolve) => {
      void bus.consume({ stream: 'dispatch', durable: 'orphans' }, async (m) => {
        got.push(TaskDispatch.decode(m.data).attemptId);
        if (got.length === 4) resolve(got);
        await m.ack();
      });
    });
    await scheduler.stop();
    scheduler = new Scheduler({ pool, bus, logger });
    await scheduler.start();
    expect((await received).sort()).toEqual(['orphan', 'orphan-b1', 'orphan-b2', 'orphan-b3']);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM outbox');
    expect(rows[0].n).toBe(0);
  });
});
