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

/** Counts every statement sent on the pool's connections while `recording` is set. */
class StatementCounter {
  recording = false;
  readonly statements: string[] = [];
  private readonly wrapped = new WeakSet<PoolClient>();

  constructor(pool: Pool) {
    pool.on('acquire', (client) => this.wrap(client));
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      this.note(args[0]);
      return query(...args);
    };
  }

  private wrap(client: PoolClient): void {
    if (this.wrapped.has(client)) return;
    this.wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      this.note(args[0]);
      return query(...args);
    };
  }

  private note(config: unknown): void {
    if (!this.recording) return;
    const text = typeof config === 'string' ? config : (config as { name?: string; text: string }).name ?? (config as { text: string }).text;
    this.statements.push(text.trim().split(/\s+/).slice(0, 3).join(' '));
  }

  async during<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
    this.statements.length = 0;
    this.recording = true;
    try {
      return { result: await fn(), statements: [...this.statements] };
    } finally {
      this.recording = false;
    }
  }
}

describe('scheduler hot path: statements per hop', () => {
  let db: TestDatabase;
  let pool: Pool;
  let counter: StatementCounter;
  let applier: RunApplier;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    const yaml = 'apiVersion: skein.dev/v1\nkind: Workflow\nmetadata:\n  name: hops\nspec:\n  tasks:\n' +
      '    - {name: a, command: ["true"]}\n    - {name: b, command: ["true"], dependsOn: [a]}\n    - {name: c, command: ["true"], dependsOn: [b]}\n';
    const parsed = parseWorkflowFile(yaml, 'hops.yaml');
    expect(parsed.errors).toEqual([]);
    for (const w of parsed.workflows) await applyWorkflow(pool, w.spec, w.digest);
    counter = new StatementCounter(pool);
    const graphs = new RunGraphCache(async (workflowId, version) => {
      const v = await getWorkflowVersion(pool, workflowId, version);
      if (!v) throw new Error(`no version ${workflowId}/${version}`);
      return v.spec;
    });
    applier = new RunApplier({ pool, graphs, logger });
  });

  afterAll(async () => {
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

  it('applies a task end and dispatches its downstream task in BEGIN, one lock-and-read, one write, COMMIT', async () => {
    const created = await applier.createRun({ workflowId: 'hops', params: {}, trigger: 'manual' });
    const runId = created.run?.id as string;
    const first = (await listRunAttempts(pool, runId)).find((a) => a.task === 'a');
    expect(first).toBeDefined();

    const { result, statements } = await counter.during(() => applier.applyEvents(runId, [event(runId, first?.id as string, 'a', 'succeeded')]));

    expect(result.outbox).toHaveLength(1);
    expect(statements).toEqual(['BEGIN', 'skein-lock-run-read-task-runs', 'skein-write-run-changes', 'COMMIT']);
    const states = Object.fromEntries((await listTaskRuns(pool, runId)).map((t) => [t.task, t.state]));
    expect(states).toEqual({ a: 'succeeded', b: 'queued', c: 'pending' });
  });

  it('applies a started event in the same four statements, reading only the started task', async () => {
    const created = await applier.createRun({ workflowId: 'hops', params: {}, trigger: 'manual' });
    const runId = created.run?.id as string;
    const first = (await listRunAttempts(pool, runId)).find((a) => a.task === 'a');

    const { statements } = await counter.during(() => applier.applyEvents(runId, [event(runId, first?.id as string, 'a', 'started')]));

    expect(statements).toEqual(['BEGIN', 'skein-lock-run-read-task-runs', 'skein-write-run-changes', 'COMMIT']);
    const states = Object.fromEntries((await listTaskRuns(pool, runId)).map((t) => [t.task, t.state]));
    expect(states).toEqual({ a: 'running', b: 'pending', c: 'pending' });
  });

  it('deletes outbox rows published earlier in the same write, not in a statement of their own', async () => {
    let sent: number[] = [];
    const deleting = new RunApplier({ pool, graphs: new RunGraphCache(async (workflowId, version) => {
      const v = await getWorkflowVersion(pool, workflowId, version);
      if (!v) throw new Error(`no version ${workflowId}/${version}`);
      return v.spec;
    }), logger, takeSentOutbox: () => sent.splice(0, sent.length) });
    const created = await deleting.createRun({ workflowId: 'hops', params: {}, trigger: 'manual' });
    const runId = created.run?.id as string;
    // The creation's dispatch has been published: its row is handed to the next transaction.
    sent = created.outbox.map((m) => m.id);
    expect(sent).toHaveLength(1);
    const first = (await listRunAttempts(pool, runId)).find((a) => a.task === 'a');

    const { result, statements } = await counter.during(() => deleting.applyEvents(runId, [event(runId, first?.id as string, 'a', 'succeeded')]));

    expect(statements).toEqual(['BEGIN', 'skein-lock-run-read-task-runs', 'skein-write-run-changes', 'COMMIT']);
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM outbox WHERE id = ANY($1::bigint[])', [[...created.outbox.map((m) => m.id), ...result.outbox.map((m) => m.id)]]);
    expect(rows.map((r) => Number(r.id))).toEqual(result.outbox.map((m) => m.id));
    expect(sent).toEqual([]);
  });

  it('still locks and reports an event of an unknown task without dispatching anything', async () => {
    const created = await applier.createRun({ workflowId: 'hops', params: {}, trigger: 'manual' });
    const runId = created.run?.id as string;

    const { result } = await counter.during(() => applier.applyEvents(runId, [event(runId, 'no-such-attempt', 'zz', 'succeeded')]));

    expect(result.outbox).toEqual([]);
    expect(result.workflowId).toBe('hops');
    const states = Object.fromEntries((await listTaskRuns(pool, runId)).map((t) => [t.task, t.state]));
    expect(states).toEqual({ a: 'queued', b: 'pending', c: 'pending' });
  });
});
