import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { RestClient, startServiceStack, type ServiceStack } from '@skein/testing';

const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');

/** Two scheduler replicas on one database and NATS; one is killed with SIGKILL while runs are in flight. */
describe('scheduler high availability', () => {
  let stack: ServiceStack;
  let api: RestClient;
  let db: Client;

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(repoRoot, 'tools', 'build.mjs'), '--all', '--quiet'], { stdio: 'inherit' });
    stack = await startServiceStack({
      repoRoot,
      serverUrl: process.env['SKEIN_TEST_DATABASE_URL'] as string,
      schedulers: 2,
      // Events held by the killed replica come back to the survivor after this long.
      schedulerEnv: { SCHEDULER_ACK_WAIT_MS: '2000' },
      executorEnv: { EXECUTOR_CAPACITY: '8' },
    });
    api = stack.api;
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it('finishes every run when one replica dies mid-run: no run, dispatch or event duplicated or lost', async () => {
    const tasks = Array.from({ length: 8 }, (_, i) => `    - {name: t${i}, command: ["sh", "-c", "sleep 0.1; echo step ${i}"]${i ? `, dependsOn: [t${i - 1}]` : ''}}`);
    await api.ok('POST', '/v1/workflows:apply', {
      source: `apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: ha}\nspec:\n  tasks:\n${tasks.join('\n')}\n`, fileName: 'ha.yaml',
    });
    const runIds: string[] = [];
    for (let i = 0; i < 4; i++) runIds.push((await api.ok<{ run: { runId: string } }>('POST', '/v1/workflows/ha/runs', { params: {} })).run.runId);
    // Let both replicas apply events for a while, then kill one without warning.
    for (let i = 0; i < 200; i++) {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM attempts WHERE state = 'succeeded'`);
      if ((rows[0]?.n ?? 0) >= 6) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await stack.kill('scheduler', 'SIGKILL');
    for (const runId of runIds) expect((await api.waitForRun('ha', runId, 60_000)).state).toBe('RUN_STATE_SUCCEEDED');

    const runs = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE workflow_id = 'ha'`);
    expect(runs.rows[0]?.n).toBe(4);
    // Exactly one attempt per task, each succeeded: nothing was dispatched twice or retried as lost.
    const attempts = await db.query<{ run_id: string; task: string; n: number; ok: number }>(
      `SELECT run_id, task, count(*)::int AS n, count(*) FILTER (WHERE state = 'succeeded')::int AS ok
         FROM attempts WHERE run_id = ANY($1) GROUP BY run_id, task`, [runIds]);
    expect(attempts.rows).toHaveLength(32);
    expect(attempts.rows.every((r) => r.n === 1 && r.ok === 1)).toBe(true);
    // Each attempt ran once: its log has one "started" line, and every line of the task.
    const starts = await db.query<{ attempt_id: string; starts: number; steps: number }>(
      `SELECT a.id AS attempt_id,
              count(*) FILTER (WHERE l.text LIKE 'attempt % started on executor %')::int AS starts,
              count(*) FILTER (WHERE l.text LIKE 'step %')::int AS steps
         FROM attempts a JOIN log_lines l ON l.attempt_id = a.id
        WHERE a.run_id = ANY($1) GROUP BY a.id`, [runIds]);
    expect(starts.rows).toHaveLength(32);
    expect(starts.rows.every((r) => r.starts === 1 && r.steps === 1)).toBe(true);
    // The outbox is drained: whatever the dead replica committed was published by the survivor.
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox`);
      if (rows[0]?.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox`)).rows[0]?.n).toBe(0);
  }, 120_000);
});
