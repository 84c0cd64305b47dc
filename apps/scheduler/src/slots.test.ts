import type { Pool } from 'pg';
import pino from 'pino';
import { createNatsBus, subjects, type Bus, type Subscription } from '@skein/bus';
import { parseWorkflowFile } from '@skein/domain';
import { TaskDispatch, TaskEvent } from '@skein/proto';
import { applyPool, applyWorkflow, createPool, getPool, getRun, listRunAttempts, listTaskRuns, migrate } from '@skein/store';
import { createTestDatabase, startNatsServer, type NatsServer, type TestDatabase } from '@skein/testing';
import { Scheduler } from './scheduler';
import { chooseGrants } from './slot-admitter';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * Plays an executor fleet: takes every dispatch, counts what is active (per pool and per workflow),
 * and finishes a task when the test says so (or at once with `auto`).
 */
class CountingExecutor {
  readonly dispatches: TaskDispatch[] = [];
  readonly held: TaskDispatch[] = [];
  private active = 0;
  maxActive = 0;
  private subscription: Subscription | undefined;

  constructor(private readonly bus: Bus, private readonly auto: boolean) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.consume({ stream: 'dispatch', durable: 'counting', ackWaitMs: 60_000, maxInFlight: 1000 }, async (message) => {
      const dispatch = TaskDispatch.decode(message.data);
      await message.ack();
      this.dispatches.push(dispatch);
      this.active += 1;
      this.maxActive = Math.max(this.maxActive, this.active);
      if (this.auto) setTimeout(() => void this.finish(dispatch), 5);
      else this.held.push(dispatch);
    });
  }

  /** Finishes the oldest held task. */
  async finishNext(): Promise<TaskDispatch> {
    const d = this.held.shift();
    if (!d) throw new Error('nothing is held');
    await this.finish(d);
    return d;
  }

  async finish(d: TaskDispatch): Promise<void> {
    this.active -= 1;
    const now = new Date();
    await this.bus.publish(subjects.event(d.runId), TaskEvent.encode(TaskEvent.fromPartial({
      attemptId: d.attemptId, runId: d.runId, task: d.task, attempt: d.attempt, executor: 'counting', time: now,
      kind: { $case: 'succeeded', succeeded: { startTime: now, endTime: now, exitCode: 0, outputsJson: '' } },
    })).finish());
  }

  async stop(): Promise<void> {
    await this.subscription?.drain();
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const poolYaml = (name: string, slots: number) => `apiVersion: skein.dev/v1\nkind: Pool\nmetadata: {name: ${name}}\nspec: {slots: ${slots}}\n`;

describe('Slots: pools, maxActiveTasks and priority (PostgreSQL + NATS)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let nats: NatsServer;
  const buses: Bus[] = [];
  const schedulers: Scheduler[] = [];
  let executor: CountingExecutor | undefined;
  const ended = new Map<string, () => void>();

  async function apply(yaml: string): Promise<void> {
    const parsed = parseWorkflowFile(yaml, 'test.yaml');
    expect(parsed.errors).toEqual([]);
    for (const p of parsed.pools) await applyPool(pool, p.spec);
    for (const w of parsed.workflows) await applyWorkflow(pool, w.spec, w.digest);
  }

  async function startScheduler(): Promise<Scheduler> {
    const bus = await createNatsBus({ servers: nats.url, name: `slots-test-${buses.length}`, logger });
    await bus.ensureStreams();
    buses.push(bus);
    const scheduler = new Scheduler({ pool, bus, logger, schedules: false, slotSweepIntervalMs: 500, onRunEnded: (runId) => ended.get(runId)?.() });
    await scheduler.start();
    schedulers.push(scheduler);
    return scheduler;
  }

  async function trigger(scheduler: Scheduler, workflowId: string): Promise<{ runId: string; done: Promise<void> }> {
    let resolveEnded!: () => void;
    const done = new Promise<void>((resolve) => { resolveEnded = resolve; });
    const { runId } = await scheduler.createRun({ workflowId, params: {}, trigger: 'manual' });
    ended.set(runId, resolveEnded);
    return { runId, done };
  }

  async function taskStates(runId: string): Promise<string[]> {
    return (await listTaskRuns(pool, runId)).map((t) => t.state);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
  });

  beforeEach(async () => {
    nats = await startNatsServer();
  });

  afterEach(async () => {
    await executor?.stop();
    executor = undefined;
    for (const s of schedulers.splice(0)) await s.stop();
    for (const b of buses.splice(0)) await b.close();
    await nats.stop();
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('holds tasks beyond the pool in SCHEDULED and admits one as each slot frees', async () => {
    await apply(`${poolYaml('two', 2)}---
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: pooled}
spec:
  defaults: {pool: two}
  tasks:
${[1, 2, 3, 4, 5].map((i) => `    - {name: t${i}, command: ["true"]}`).join('\n')}
`);
    const scheduler = await startScheduler();
    executor = new CountingExecutor(buses[0] as Bus, false);
    await executor.start();
    const { runId, done } = await trigger(scheduler, 'pooled');
    await until('two tasks are dispatched', () => executor?.held.length === 2);
    expect((await taskStates(runId)).sort()).toEqual(['queued', 'queued', 'scheduled', 'scheduled', 'scheduled']);
    expect(await getPool(pool, 'two')).toMatchObject({ slots: 2, usedSlots: 2, waitingTasks: 3 });
    // Nothing more goes out while both slots are held, even across admission sweeps.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(executor.dispatches).toHaveLength(2);
    for (let finished = 1; finished <= 5; finished++) {
      await executor.finishNext();
      const expected = Math.min(2 + finished, 5);
      await until(`${expected} tasks are dispatched`, () => executor?.dispatches.length === expected);
    }
    await done;
    expect(executor.maxActive).toBe(2);
    expect((await getRun(pool, runId))?.state).toBe('succeeded');
    expect(await getPool(pool, 'two')).toMatchObject({ usedSlots: 0, waitingTasks: 0 });
    const attempts = await listRunAttempts(pool, runId);
    expect(attempts.map((a) => [a.number, a.state])).toEqual(Array.from({ length: 5 }, () => [1, 'succeeded']));
  });

  it('admits higher priority first, and a task taking several slots waits until they are all free', async () => {
    await apply(`${poolYaml('one', 1)}---
${poolYaml('three', 3)}---
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: ranked}
spec:
  tasks:
    - {name: gate, command: ["true"], pool: one}
    - {name: low, command: ["true"], pool: one, priority: 1, dependsOn: [gate]}
    - {name: high, command: ["true"], pool: one, priority: 50, dependsOn: [gate]}
    - {name: mid, command: ["true"], pool: one, priority: 10, dependsOn: [gate]}
---
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: heavy}
spec:
  tasks:
    - {name: small1, command: ["true"], pool: three}
    - {name: small2, command: ["true"], pool: three}
    - {name: big, command: ["true"], pool: three, poolSlots: 3, priority: 5, dependsOn: [small1]}
    - {name: small3, command: ["true"], pool: three, dependsOn: [small1]}
`);
    const scheduler = await startScheduler();
    executor = new CountingExecutor(buses[0] as Bus, false);
    await executor.start();
    const ranked = await trigger(scheduler, 'ranked');
    await until('gate is dispatched', () => executor?.held.length === 1);
    for (let i = 0; i < 4; i++) {
      await executor.finishNext();
      if (i < 3) await until(`task ${i + 2} is dispatched`, () => executor?.held.length === 1);
    }
    await ranked.done;
    expect(executor.dispatches.map((d) => d.task)).toEqual(['gate', 'high', 'mid', 'low']);

    executor.dispatches.length = 0;
    const heavy = await trigger(scheduler, 'heavy');
    await until('small1 and small2 are dispatched', () => executor?.held.length === 2);
    await executor.finishNext(); // small1: big (3 slots, priority 5) and small3 become ready; 2 slots free
    await new Promise((resolve) => setTimeout(resolve, 700));
    // big does not fit in 2 slots and, being first in priority order, holds small3 back (no starvation).
    expect(executor.held.map((d) => d.task)).toEqual(['small2']);
    expect((await listTaskRuns(pool, heavy.runId)).find((t) => t.task === 'small3')?.state).toBe('scheduled');
    await executor.finishNext(); // small2: all 3 free → big
    await until('big is dispatched', () => executor?.held.length === 1);
    expect(executor.held[0]?.task).toBe('big');
    await executor.finishNext();
    await until('small3 is dispatched', () => executor?.held.length === 1);
    await executor.finishNext();
    await heavy.done;
    expect(executor.dispatches.map((d) => d.task)).toEqual(['small1', 'small2', 'big', 'small3']);
  });

  it('limits the tasks of a workflow across its runs with maxActiveTasks', async () => {
    await apply(`apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: capped}
spec:
  maxActiveTasks: 3
  tasks:
${[1, 2, 3, 4].map((i) => `    - {name: t${i}, command: ["true"]}`).join('\n')}
`);
    const scheduler = await startScheduler();
    executor = new CountingExecutor(buses[0] as Bus, false);
    await executor.start();
    const runs = [await trigger(scheduler, 'capped'), await trigger(scheduler, 'capped')];
    await until('three tasks are dispatched', () => executor?.held.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(executor.dispatches).toHaveLength(3);
    while (executor.dispatches.length < 8 || executor.held.length > 0) {
      const before = executor.dispatches.length;
      await executor.finishNext();
      if (before < 8) await until('the next task is dispatched', () => (executor?.dispatches.length ?? 0) > before);
    }
    await Promise.all(runs.map((r) => r.done));
    expect(executor.maxActive).toBe(3);
    for (const r of runs) expect((await getRun(pool, r.runId))?.state).toBe('succeeded');
  });

  it('cancelling a run drops its waiting tasks and frees its slots for other runs', async () => {
    await apply(`${poolYaml('solo', 1)}---
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: queue-up}
spec:
  defaults: {pool: solo}
  tasks:
    - {name: a, command: ["true"]}
    - {name: b, command: ["true"]}
`);
    const scheduler = await startScheduler();
    executor = new CountingExecutor(buses[0] as Bus, false);
    await executor.start();
    const first = await trigger(scheduler, 'queue-up');
    await until('one task is dispatched', () => executor?.held.length === 1);
    const second = await trigger(scheduler, 'queue-up');
    await scheduler.cancelRun(first.runId, 'test');
    await first.done;
    expect((await taskStates(first.runId)).sort()).toEqual(['cancelled', 'cancelled']);
    // The cancelled run's slot and its waiting task are gone: the second run gets the pool.
    await until('the second run starts', () => executor?.dispatches.some((d) => d.runId === second.runId) ?? false);
    executor.held.splice(0, executor.held.findIndex((d) => d.runId === second.runId));
    await executor.finishNext();
    await until('the second run\'s other task is dispatched', () => executor?.held.length === 1);
    await executor.finishNext();
    await second.done;
    expect((await getRun(pool, second.runId))?.state).toBe('succeeded');
    expect(await getPool(pool, 'solo')).toMatchObject({ usedSlots: 0, waitingTasks: 0 });
  });

  it('holds a pool limit across two scheduler replicas', async () => {
    await apply(`${poolYaml('shared', 3)}---
apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: wide}
spec:
  defaults: {pool: shared}
  tasks:
${Array.from({ length: 12 }, (_, i) => `    - {name: t${i}, command: ["true"]}`).join('\n')}
`);
    const a = await startScheduler();
    const b = await startScheduler();
    executor = new CountingExecutor(buses[0] as Bus, true);
    await executor.start();
    const runs = [await trigger(a, 'wide'), await trigger(b, 'wide'), await trigger(a, 'wide')];
    await Promise.all(runs.map((r) => r.done));
    expect(executor.dispatches).toHaveLength(36);
    expect(new Set(executor.dispatches.map((d) => d.attemptId)).size).toBe(36);
    expect(executor.maxActive).toBeLessThanOrEqual(3);
    for (const r of runs) expect((await getRun(pool, r.runId))?.state).toBe('succeeded');
  });
});

describe('chooseGrants', () => {
  const wait = (attemptId: string, fields: Partial<Parameters<typeof chooseGrants>[0][number]> = {}) => ({
    attemptId, runId: 'r', task: attemptId, number: 1, workflowId: 'w', pool: 'p', poolSlots: 1, maxActiveTasks: null, priority: 0,
    waitTime: new Date(0), current: true, ...fields,
  });

  it('grants by priority, then wait time, within free slots', () => {
    const { grants } = chooseGrants([
      wait('late', { waitTime: new Date(2) }), wait('early', { waitTime: new Date(1) }), wait('urgent', { priority: 9, waitTime: new Date(3) }),
    ], new Map([['p', 2]]), new Map());
    expect(grants.map((g) => g.attemptId)).toEqual(['urgent', 'early']);
  });

  it('a task that does not fit blocks its pool but not others; stale waits are reported', () => {
    const { grants, stale } = chooseGrants([
      wait('big', { poolSlots: 3, priority: 5 }), wait('small'), wait('other', { pool: 'q' }), wait('gone', { current: false }),
    ], new Map([['p', 2], ['q', 1]]), new Map());
    expect(grants.map((g) => g.attemptId)).toEqual(['other']);
    expect(stale).toEqual(['gone']);
  });

  it('counts maxActiveTasks per workflow and skips (without blocking the pool) a task over it', () => {
    const { grants } = chooseGrants([
      wait('w1', { maxActiveTasks: 1, workflowId: 'busy', priority: 2 }), wait('w2', { workflowId: 'free', priority: 1 }),
      wait('x', { pool: null, maxActiveTasks: 2, workflowId: 'capped' }), wait('y', { pool: null, maxActiveTasks: 2, workflowId: 'capped' }),
    ], new Map([['p', 5]]), new Map([['busy', 1], ['capped', 1]]));
    expect(grants.map((g) => [g.attemptId, g.limitsWorkflow])).toEqual([['w2', false], ['x', true]]);
  });

  it('never grants from a pool that does not exist (deleted or shrunk away)', () => {
    expect(chooseGrants([wait('a', { pool: 'missing' })], new Map(), new Map()).grants).toEqual([]);
  });
});
