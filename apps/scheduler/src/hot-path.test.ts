import type { Pool, PoolClient } from 'pg';
import pino from 'pino';
import { parseWorkflowFile } from '@skein/domain';
import { TaskEvent } from '@skein/proto';
import { applyWorkflow, createPool, getWorkflowVersion, listRunAttempts, listTaskRuns, migrate } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { RunApplier } from './run-applier';
import { RunGraphCache } from './run-graph';

/**
 * The statements one hop costs the scheduler, counted on the real PostgreSQL: they are the hop's
 * floor (each is a round trip and a socket write), so the count is asserted, not timed.
 */
const logger = pino({ level: 'silent' });

/** A statement as the tests name it: a prepared statement's name, else its first three words. */
function statementLabel(config: unknown): string {
  const text = typeof config === 'string' ? config : (config as { name?: string; text: string }).name ?? (config as { text: string }).text;
  return text.trim().split(/\s+/).slice(0, 3).join(' ');
}

/**
 * Counts every statement sent on the pools' connections while `recording` is set (and, apart, those
 * sent on the hot path's pool).
 */
class StatementCounter {
  recording = false;
  readonly statements: string[] = [];
  readonly onHotPath: string[] = [];
  private readonly wrapped = new WeakSet<PoolClient>();

  constructor(pool: Pool, hotPathPool: Pool) {
    // pool.query() too runs on an acquired client: every statement is counted once, there.
    pool.on('acquire', (client) => this.wrap(client, false));
    hotPathPool.on('acquire', (client) => this.wrap(client, true));
  }

  private wrap(client: PoolClient, hot: boolean): void {
    if (this.wrapped.has(client)) return;
    this.wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      this.note(args[0], hot);
      return query(...args);
    };
  }

  private note(config: unknown, hot: boolean): void {
    if (!this.recording) return;
    this.statements.push(statementLabel(config));
    if (hot) this.onHotPath.push(statementLabel(config));
  }

  async during<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[]; onHotPath: string[] }> {
    this.statements.length = 0;
    this.onHotPath.length = 0;
    this.recording = true;
    try {
      return { result: await fn(), statements: [...this.statements], onHotPath: [...this.onHotPath] };
    } finally {
      this.recording = false;
    }
  }
}

describe('scheduler hot path: statements per hop', () => {
  let db: TestDatabase;
  let pool: Pool;
  /** The hot path's connections: generic plans, as the scheduler makes them. */
  let hotPathPool: Pool;
  let counter: StatementCounter;
  let applier: RunApplier;
  /** A scheduler's cache of compiled workflow versions, read from the test database. */
  const graphCache = () => new RunGraphCache(async (workflowId, version) => {
    const v = await getWorkflowVersion(pool, workflowId, version);
    if (!v) throw new Error(`no version ${workflowId}/${version}`);
    return v.spec;
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    hotPathPool = createPool(db.url, { plannedOnce: true });
    await migrate(pool);
    const yaml = 'apiVersion: skein.dev/v1\nkind: Workflow\nmetadata:\n  name: hops\nspec:\n  tasks:\n' +
      '    - {name: a, command: ["true"]}\n    - {name: b, command: ["true"], dependsOn: [a]}\n    - {name: c, command: ["true"], dependsOn: [b]}\n';
    const parsed = parseWorkflowFile(yaml, 'hops.yaml');
    expect(parsed.errors).toEqual([]);
    for (const w of parsed.workflows) await applyWorkflow(pool, w.spec, w.digest);
    counter = new StatementCounter(pool, hotPathPool);
    const graphs = graphCache();
    applier = new RunApplier({ pool, hotPathPool, graphs, logger });
  });

  afterAll(async () => {
    await hotPathPool.end();
    await pool.end();
    await db.drop();
  });

  function event(runId: string, attemptId: string, task: string, kind: 'started' | 'succeeded'): TaskEvent {
    const now = new Date();
    return TaskEvent.fromPartial({
      attemptId, runId, task, attempt: 1, executor: 'counting', time: now,
      kind: kind === 'started'
        ? { $case: 'started', started: { startTime: now } }
        : { $case: 'succeeded', succeeded: { startTime: now, endTime: now, exitCode: 0, outputsJson: '' } },
    });
  }

  /** A new run of `hops` (task a queued), by this test's applier. */
  const newRun = async () => (await applier.createRun({ workflowId: 'hops', params: {}, trigger: 'manual' })).run?.id as string;
  /** The id of the run's attempt of `task`. */
  const attemptOf = async (runId: string, task: string) => (await listRunAttempts(pool, runId)).find((a) => a.task === task)?.id as string;
  /** Every task run's state, by task. */
  const statesOf = async (runId: string) => Object.fromEntries((await listTaskRuns(pool, runId)).map((t) => [t.task, t.state]));

  it('applies a task end and dispatches its downstream task in one read and one autocommitted write', async () => {
    const runId = await newRun();
    const first = { id: await attemptOf(runId, 'a') };
    expect(first).toBeDefined();

    const { result, statements, onHotPath } = await counter.during(() => applier.applyEvents(runId, [event(runId, first?.id as string, 'a', 'succeeded')]));

    expect(result.outbox).toHaveLength(1);
    expect(statements).toEqual(['skein-read-run-snapshot', 'skein-write-run-changes-if']);
    // Both on the hot path's connections (generic plans, never re-planned).
    expect(onHotPath).toEqual(statements);
    expect(await statesOf(runId)).toEqual({ a: 'succeeded', b: 'queued', c: 'pending' });
  });

  it('applies a started event in the same two statements, reading only the started task', async () => {
    const runId = await newRun();
    const first = { id: await attemptOf(runId, 'a') };

    const { statements } = await counter.during(() => applier.applyEvents(runId, [event(runId, first?.id as string, 'a', 'started')]));

    expect(statements).toEqual(['skein-read-run-snapshot', 'skein-write-run-changes-if']);
    expect(await statesOf(runId)).toEqual({ a: 'running', b: 'pending', c: 'pending' });
  });

  it('deletes outbox rows published earlier in the same write, not in a statement of their own', async () => {
    let sent: number[] = [];
    const deleting = new RunApplier({ pool, graphs: graphCache(), logger, takeSentOutbox: () => sent.splice(0, sent.length) });
    const created = await deleting.createRun({ workflowId: 'hops', params: {}, trigger: 'manual' });
    const runId = created.run?.id as string;
    // The creation's dispatch has been published: its row is handed to the next transaction.
    sent = created.outbox.map((m) => m.id);
    expect(sent).toHaveLength(1);
    const first = (await listRunAttempts(pool, runId)).find((a) => a.task === 'a');

    const { result, statements } = await counter.during(() => deleting.applyEvents(runId, [event(runId, first?.id as string, 'a', 'succeeded')]));

    expect(statements).toEqual(['skein-read-run-snapshot', 'skein-write-run-changes-if']);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM outbox WHERE id = ANY($1::bigint[])', [[...created.outbox.map((m) => m.id), ...result.outbox.map((m) => m.id)]]);
    expect(rows.map((r) => Number(r.id))).toEqual(result.outbox.map((m) => m.id));
    expect(sent).toEqual([]);
  });

  it('decides the next hop of a chain from its own last write: one statement', async () => {
    const runId = await newRun();
    const a = { id: await attemptOf(runId, 'a') };
    await applier.applyEvents(runId, [event(runId, a?.id as string, 'a', 'succeeded')]);
    const b = { id: await attemptOf(runId, 'b') };

    const started = await counter.during(() => applier.applyEvents(runId, [event(runId, b?.id as string, 'b', 'started')]));
    const ended = await counter.during(() => applier.applyEvents(runId, [event(runId, b?.id as string, 'b', 'succeeded')]));

    expect(started.statements).toEqual(['skein-write-run-changes-if']);
    expect(ended.statements).toEqual(['skein-write-run-changes-if']);
    expect(ended.result.outbox).toHaveLength(1);
    expect(await statesOf(runId)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'queued' });
    const c = { id: await attemptOf(runId, 'c') };
    const last = await counter.during(() => applier.applyEvents(runId, [event(runId, c?.id as string, 'c', 'succeeded')]));
    expect(last.statements).toEqual(['skein-write-run-changes-if']);
    expect(last.result.runEnded).toBe(true);
  });

  it('reads the run again when someone else wrote it since its own last write (here: cancelled it)', async () => {
    const runId = await newRun();
    const a = { id: await attemptOf(runId, 'a') };
    await applier.applyEvents(runId, [event(runId, a?.id as string, 'a', 'succeeded')]);
    const b = { id: await attemptOf(runId, 'b') };
    // Another scheduler replica (its own applier) cancels the run.
    const other = new RunApplier({ pool, graphs: graphCache(), logger });
    await other.cancelRun(runId, 'stop', 'cancelled');

    const { result, statements } = await counter.during(() => applier.applyEvents(runId, [event(runId, b?.id as string, 'b', 'succeeded')]));

    expect(statements).toEqual(['skein-write-run-changes-if', 'skein-read-run-snapshot']);
    expect(result.outbox).toEqual([]);
    expect(await statesOf(runId)).toEqual({ a: 'succeeded', b: 'cancelled', c: 'cancelled' });
    expect((await listRunAttempts(pool, runId)).filter((x) => x.task === 'c')).toEqual([]);
  });

  it('reports an event of an unknown task without dispatching anything', async () => {
    const runId = await newRun();

    const { result } = await counter.during(() => applier.applyEvents(runId, [event(runId, 'no-such-attempt', 'zz', 'succeeded')]));

    expect(result.outbox).toEqual([]);
    expect(result.workflowId).toBe('hops');
    expect(await statesOf(runId)).toEqual({ a: 'queued', b: 'pending', c: 'pending' });
  });

  it('decides again under the run lock when another writer changed the run between the read and the write', async () => {
    const runId = await newRun();
    const first = { id: await attemptOf(runId, 'a') };
    // Right after the optimistic read, another writer commits a change to the run.
    const racing = new RacingPool(pool, async () => {
      await pool.query('UPDATE runs SET failed_tasks = failed_tasks WHERE id = $1', [runId]);
    });
    const racer = new RunApplier({ pool: racing.pool, graphs: graphCache(), logger });
    await racer.applyEvents(runId, []); // learns the run's version: optimistic from now on
    racing.statements.length = 0;

    const result = await racer.applyEvents(runId, [event(runId, first?.id as string, 'a', 'succeeded')]);

    expect(racing.statements).toEqual(['skein-read-run-snapshot', 'skein-write-run-changes-if', 'BEGIN', 'skein-lock-run-read-task-runs', 'skein-write-run-changes', 'COMMIT']);
    expect(result.outbox).toHaveLength(1);
    const attempts = await listRunAttempts(pool, runId);
    // The optimistic write left nothing behind: one attempt of b, from the locked decision.
    expect(attempts.filter((a) => a.task === 'b')).toHaveLength(1);
    expect(attempts.find((a) => a.task === 'a')?.state).toBe('succeeded');
    expect(await statesOf(runId)).toEqual({ a: 'succeeded', b: 'queued', c: 'pending' });
  });

  it('takes the run lock for a run that fails (naming its failed tasks needs statements of its own)', async () => {
    const runId = await newRun();
    const first = { id: await attemptOf(runId, 'a') };
    const failed = TaskEvent.fromPartial({
      attemptId: first?.id, runId, task: 'a', attempt: 1, executor: 'counting', time: new Date(),
      kind: { $case: 'failed', failed: { startTime: new Date(), endTime: new Date(), exitCode: 1, reason: 'EXIT_CODE', message: 'exit 1' } },
    });

    const { statements } = await counter.during(() => applier.applyEvents(runId, [failed]));

    // Read optimistically (its cascade too), nothing written, then decided again under the lock.
    expect(statements[0]).toBe('skein-read-run-snapshot');
    const begin = statements.indexOf('BEGIN');
    expect(statements.slice(0, begin)).not.toContain('skein-write-run-changes');
    expect(statements.slice(begin, begin + 2)).toEqual(['BEGIN', 'skein-lock-run-read-task-runs']);
    expect(statements.at(-1)).toBe('COMMIT');
    const run = (await pool.query<{ state: string; reason: string }>('SELECT state, reason FROM runs WHERE id = $1', [runId])).rows[0];
    expect(run).toEqual({ state: 'failed', reason: 'failed tasks: a' });
  });

  it('applies a fan-in from two schedulers at once: every count right, the sink dispatched once', async () => {
    const yaml = 'apiVersion: skein.dev/v1\nkind: Workflow\nmetadata:\n  name: fanin\nspec:\n  tasks:\n' +
      Array.from({ length: 12 }, (_, i) => `    - {name: x${i}, command: ["true"]}\n`).join('') +
      `    - {name: sink, command: ["true"], dependsOn: [${Array.from({ length: 12 }, (_, i) => `x${i}`).join(', ')}]}\n`;
    const parsed = parseWorkflowFile(yaml, 'fanin.yaml');
    expect(parsed.errors).toEqual([]);
    for (const w of parsed.workflows) await applyWorkflow(pool, w.spec, w.digest);
    const replicas = [new RunApplier({ pool, graphs: graphCache(), logger }), new RunApplier({ pool, graphs: graphCache(), logger })];
    const created = await replicas[0]?.createRun({ workflowId: 'fanin', params: {}, trigger: 'manual' });
    const runId = created?.run?.id as string;
    await replicas[1]?.applyEvents(runId, []); // the second replica learns the run too (optimistic from now on)
    const attempts = await listRunAttempts(pool, runId);

    // Each replica applies half of the ends, one event per call, all at once.
    const results = await Promise.all(attempts.map((a, i) => replicas[i % 2]?.applyEvents(runId, [event(runId, a.id, a.task, 'succeeded')])));

    expect(results.flatMap((r) => r?.outbox ?? [])).toHaveLength(1);
    const after = await listRunAttempts(pool, runId);
    expect(after.filter((a) => a.task === 'sink')).toHaveLength(1);
    expect(after.filter((a) => a.state === 'succeeded')).toHaveLength(12);
    const sink = (await listTaskRuns(pool, runId)).find((t) => t.task === 'sink');
    expect(sink).toMatchObject({ state: 'queued', upstream: { total: 12, succeeded: 12 } });
    const run = (await pool.query<{ unfinished_tasks: number }>('SELECT unfinished_tasks FROM runs WHERE id = $1', [runId])).rows[0];
    expect(run?.unfinished_tasks).toBe(1);
  });
});

/** A pool whose optimistic read is followed, before it returns, by `between` (another writer's commit). */
class RacingPool {
  readonly statements: string[] = [];
  readonly pool: Pool;

  constructor(inner: Pool, between: () => Promise<void>) {
    const note = (config: unknown) => {
      const label = statementLabel(config);
      this.statements.push(label);
      return label;
    };
    let raced = false;
    const wrapClient = (client: PoolClient): PoolClient => new Proxy(client, {
      get: (target, key) => (key === 'query'
        ? (config: unknown, values?: unknown[]) => {
          note(config);
          return (target.query as (c: unknown, v?: unknown[]) => Promise<unknown>)(config, values);
        }
        : Reflect.get(target, key)),
    });
    this.pool = new Proxy(inner, {
      get: (target, key) => {
        if (key === 'query') {
          return async (config: unknown, values?: unknown[]) => {
            const name = note(config);
            const result = await (target.query as (c: unknown, v?: unknown[]) => Promise<unknown>)(config, values);
            if (name === 'skein-read-run-snapshot' && !raced) {
              raced = true;
              await between();
            }
            return result;
          };
        }
        if (key === 'connect') return async () => wrapClient(await target.connect());
        return Reflect.get(target, key);
      },
    });
  }
}
