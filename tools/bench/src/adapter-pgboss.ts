// pg-boss: jobs in PostgreSQL, fetched by polling workers (v10: at least every 0.5 s). Jobs sent from
// this process wake the workers at once with notifyWorker(), as its documentation describes, so no
// hop waits for a poll. No DAGs: DagDriver enqueues successors, fan-in through a counter row.
import PgBoss from 'pg-boss';
import { Pool } from 'pg';
import type { LayeredTimings, RunTimings, SystemAdapter } from './compare-adapter';
import { DagDriver, type DagJob } from './dag-driver';
import { chainDag, fanoutDag, independentDag, layeredDag } from './dag-shapes';
import { pgFaninCounters } from './pg-fanin-counters';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const version = (require('pg-boss/package.json') as { version: string }).version;
const queue = 'bench';
/** Workers (each one polling loop); the slots are split between them as batch sizes. */
const workers = 4;

export function pgBossAdapter(databaseUrl: string, slots: number): SystemAdapter {
  let boss: PgBoss | undefined;
  let pool: Pool | undefined;
  let driver: DagDriver | undefined;
  const workerIds: string[] = [];
  const batchSize = Math.max(1, Math.floor(slots / workers));
  const only = (r: { perRun: RunTimings[] }): RunTimings => r.perRun[0] as RunTimings;
  return {
    name: 'pg-boss',
    version,
    configuration: `${workers} work() loops × batchSize ${batchSize} (${workers * batchSize} slots), pollingIntervalSeconds 0.5 (the minimum), notifyWorker() after each send and after a full batch, batched insert()`,
    countSelf: true,
    async start() {
      boss = new PgBoss({ connectionString: databaseUrl, max: 10, schedule: false });
      boss.on('error', () => undefined);
      await boss.start();
      await boss.createQueue(queue);
      pool = new Pool({ connectionString: databaseUrl, max: 10 });
      pool.on('error', () => undefined);
      const b = boss;
      driver = new DagDriver(async (jobs) => {
        await b.insert(jobs.map((data) => ({ name: queue, data })));
        for (const id of workerIds) b.notifyWorker(id);
      }, await pgFaninCounters(pool));
      const d = driver;
      for (let i = 0; i < workers; i++) {
        let id = '';
        id = await b.work<DagJob>(queue, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          await Promise.all(jobs.map((job) => d.handle(job.data)));
          // A full batch means more are likely waiting: fetch again at once rather than after the interval.
          if (jobs.length === batchSize) b.notifyWorker(id);
        });
        workerIds.push(id);
      }
    },
    setTaskBody(body) { (driver as DagDriver).body = body; },
    independent: async (n) => only(await (driver as DagDriver).run(independentDag(n))),
    chain: async (n) => only(await (driver as DagDriver).run(chainDag(n))),
    fanout: async (width) => only(await (driver as DagDriver).run(fanoutDag(width))),
    async layered(runs, layers, width): Promise<LayeredTimings> {
      const r = await (driver as DagDriver).run(layeredDag(layers, width), runs);
      return { submitted: r.submitted, tasks: r.perRun.flatMap((p) => p.tasks), runMakespans: r.makespans };
    },
    async stop() {
      await boss?.stop({ graceful: true, wait: true, close: true });
      await pool?.end();
    },
  };
}
