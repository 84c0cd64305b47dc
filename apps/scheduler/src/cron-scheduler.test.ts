import type { Pool } from 'pg';
import pino from 'pino';
import { createInProcessBus, type Bus } from '@skein/bus';
import { parseWorkflowFile } from '@skein/domain';
import { applyWorkflow, createPool, listRuns, migrate, setWorkflowPaused } from '@skein/store';
import { createTestDatabase, type TestDatabase } from '@skein/testing';
import { CronScheduler } from './cron-scheduler';
import { Scheduler } from './scheduler';

const logger = pino({ level: 'silent' });

describe('CronScheduler', () => {
  let db: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  let scheduler: Scheduler;
  let clock = new Date('2026-01-01T10:17:30Z');
  const crons: CronScheduler[] = [];

  function cron(): CronScheduler {
    const c = new CronScheduler({
      pool, logger, now: () => clock, pollIntervalMs: 60_000,
      createRun: (workflowId, params, logicalDate) => scheduler.createScheduledRun(workflowId, params, logicalDate),
    });
    crons.push(c);
    return c;
  }

  async function apply(name: string, spec: string): Promise<void> {
    const parsed = parseWorkflowFile(`apiVersion: skein.dev/v1\nkind: Workflow\nmetadata: {name: ${name}}\nspec:\n${spec}  tasks:\n    - {name: t, command: ["true"]}\n`, `${name}.yaml`);
    expect(parsed.errors).toEqual([]);
    const w = parsed.workflows[0];
    if (w) await applyWorkflow(pool, w.spec, w.digest);
  }

  async function logicalDates(workflowId: string): Promise<string[]> {
    const runs = await listRuns(pool, { workflowId, limit: 1000 });
    return runs.filter((r) => r.trigger === 'schedule').map((r) => r.logicalDate.toISOString()).sort();
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url);
    await migrate(pool);
    bus = createInProcessBus();
    await bus.ensureStreams();
    scheduler = new Scheduler({ pool, bus, logger, schedules: false });
    await scheduler.start();
  });

  afterAll(async () => {
    for (const c of crons) await c.stop();
    await scheduler.stop();
    await bus.close();
    await pool.end();
    await db.drop();
  });

  it('creates a run per data interval that is over, with catch-up, once, and continues as time passes', async () => {
    clock = new Date('2026-01-01T10:17:30Z');
    await apply('every5', `  schedule: "*/5 * * * *"\n  startDate: "2026-01-01T10:00:00Z"\n  catchup: true\n`);
    const c = cron();
    await c.tick();
    await c.tick();
    expect(await logicalDates('every5')).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-01T10:05:00.000Z', '2026-01-01T10:10:00.000Z']);
    clock = new Date('2026-01-01T10:20:00Z');
    await c.tick();
    expect(await logicalDates('every5')).toHaveLength(4);
  });

  it('never creates two runs for one interval when replicas tick at once', async () => {
    clock = new Date('2026-01-01T10:17:30Z');
    await apply('racy', `  schedule: "*/5 * * * *"\n  startDate: "2026-01-01T10:00:00Z"\n  catchup: true\n`);
    await Promise.all([cron().tick(), cron().tick(), cron().tick()]);
    expect(await logicalDates('racy')).toEqual(['2026-01-01T10:00:00.000Z', '2026-01-01T10:05:00.000Z', '2026-01-01T10:10:00.000Z']);
  });

  it('creates nothing while paused, and only the latest interval without catch-up', async () => {
    clock = new Date('2026-01-01T10:17:30Z');
    await apply('latest', `  schedule: "*/5 * * * *"\n  startDate: "2026-01-01T09:00:00Z"\n`);
    await setWorkflowPaused(pool, 'latest', true);
    const c = cron();
    await c.tick();
    expect(await logicalDates('latest')).toEqual([]);
    await setWorkflowPaused(pool, 'latest', false);
    await c.tick();
    expect(await logicalDates('latest')).toEqual(['2026-01-01T10:10:00.000Z']);
  });

  it('skips a workflow whose params have no defaults and keeps scheduling the others', async () => {
    clock = new Date('2026-01-01T10:17:30Z');
    await apply('needs-param', `  schedule: "*/5 * * * *"\n  startDate: "2026-01-01T10:00:00Z"\n  params: {season: {type: string}}\n`);
    await apply('fine', `  schedule: "*/5 * * * *"\n  startDate: "2026-01-01T10:10:00Z"\n  catchup: true\n`);
    await cron().tick();
    expect(await logicalDates('needs-param')).toEqual([]);
    expect(await logicalDates('fine')).toEqual(['2026-01-01T10:10:00.000Z']);
  });
});
