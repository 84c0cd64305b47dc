// graphile-worker: jobs in PostgreSQL, picked up on LISTEN/NOTIFY. No DAGs: chains and fan-outs are jobs
// that enqueue their successors (DagDriver), fan-in through a counter row in the same database.
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from 'graphile-worker';
import { Pool } from 'pg';
import type { RunTimings, SystemAdapter, LayeredTimings } from './compare-adapter';
import { DagDriver, type DagJob } from './dag-driver';
import { chainDag, fanoutDag, independentDag, layeredDag } from './dag-shapes';
import { pgFaninCounters } from './pg-fanin-counters';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const version = (require('graphile-worker/package.json') as { version: string }).version;

export function graphileAdapter(databaseUrl: string, slots: number): SystemAdapter {
  let runner: Runner | undefined;
  let utils: WorkerUtils | undefined;
  let pool: Pool | undefined;
  let driver: DagDriver | undefined;
  const silent = new Logger(() => () => undefined);
  const only = (r: { perRun: RunTimings[] }): RunTimings => r.perRun[0] as RunTimings;
  return {
    name: 'graphile-worker',
    version,
    configuration: `run() with concurrency ${slots}, LISTEN/NOTIFY pick-up, localQueue size ${slots}, completeJobBatchDelay 0, batched addJobs`,
    countSelf: true,
    async start() {
      // One pool we own, so stop() ends every connection before the database is dropped.
      pool = new Pool({ connectionString: databaseUrl, max: 20 });
      pool.on('error', () => undefined);
      pool.on('connect', (client) => { client.on('error', () => undefined); });
      utils = await makeWorkerUtils({ pgPool: pool, logger: silent });
      await utils.migrate();
      const u = utils;
      driver = new DagDriver(async (jobs) => {
        await u.addJobs(jobs.map((payload) => ({ identifier: 'task', payload })));
      }, await pgFaninCounters(pool));
      const d = driver;
      runner = await run({
        pgPool: pool,
        concurrency: slots,
        noHandleSignals: true,
        pollInterval: 2000,
        logger: silent,
        preset: { worker: { localQueue: { size: slots }, completeJobBatchDelay: 0 } },
        taskList: { task: async (payload) => { await d.handle(payload as DagJob); } },
      });
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
      await runner?.stop();
      await utils?.release();
      await pool?.end();
    },
  };
}
