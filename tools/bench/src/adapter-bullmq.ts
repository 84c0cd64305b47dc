// BullMQ on a redis-server the harness starts (appendonly, appendfsync everysec). Fan-out/fan-in is a
// FlowProducer flow (the sink is the parent of the children; BullMQ runs a parent when its children are
// done), added by the src job; chains are jobs that enqueue their successor; W4's layered fan-in counts
// down a Redis hash (HINCRBY) as BullMQ has no DAG between siblings.
import { FlowProducer, Queue, Worker, type Job } from 'bullmq';
import { startRedisServer, type RedisServer } from '@skein/testing';
import { now, type LayeredTimings, type RunTimings, type SystemAdapter, type TaskTiming } from './compare-adapter';
import { DagDriver, type DagJob, type FaninCounters } from './dag-driver';
import { chainDag, independentDag, layeredDag } from './dag-shapes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const version = (require('bullmq/package.json') as { version: string }).version;
const queueName = 'bench';

/** Why BullMQ cannot run here, or undefined: BullMQ 6 loads its Redis client (ioredis) lazily. */
export function bullmqUnavailable(): string | undefined {
  try {
    require.resolve('ioredis');
    return undefined;
  } catch {
    return 'the ioredis package (BullMQ\'s Redis client, an optional peer dependency of BullMQ 6) is not installed';
  }
}

interface FanoutState {
  readonly width: number;
  readonly timings: (TaskTiming | undefined)[];
  readonly finished: () => void;
}

export function bullmqAdapter(slots: number): SystemAdapter {
  let redis: RedisServer | undefined;
  let queue: Queue | undefined;
  let flows: FlowProducer | undefined;
  let worker: Worker | undefined;
  let driver: DagDriver | undefined;
  let fanout: FanoutState | undefined;
  const only = (r: { perRun: RunTimings[] }): RunTimings => r.perRun[0] as RunTimings;

  const counters = (): FaninCounters => ({
    async init(run, counts) {
      const client = await (queue as Queue).getBackend().client;
      await client.hset(`bench:fanin:${run}`, Object.fromEntries(counts.map((c) => [String(c.task), c.remaining])));
    },
    async decrement(run, tasks) {
      const client = await (queue as Queue).getBackend().client;
      const left = await Promise.all(tasks.map((t) => client.runCommand('hincrby', [`bench:fanin:${run}`, String(t), -1]) as Promise<number>));
      return tasks.filter((_, i) => Number(left[i]) === 0);
    },
  });

  /** The fan-out's jobs: src adds the flow (sink parent, `width` children); children and sink are timed. */
  const fanoutJob = async (job: Job): Promise<void> => {
    const start = now();
    const end = now();
    const state = fanout as FanoutState;
    if (job.name === 'src') {
      state.timings[0] = { start, end };
      await (flows as FlowProducer).add({
        name: 'sink', queueName, data: {}, opts: { removeOnComplete: true },
        children: Array.from({ length: state.width }, (_, i) => ({ name: 'child', queueName, data: { i }, opts: { removeOnComplete: true } })),
      });
    } else if (job.name === 'child') {
      state.timings[1 + (job.data as { i: number }).i] = { start, end };
    } else {
      state.timings[state.width + 1] = { start, end };
      state.finished();
    }
  };

  return {
    name: 'BullMQ',
    version,
    configuration: `Worker concurrency ${slots}, removeOnComplete, FlowProducer for fan-out/fan-in, addBulk for batches; redis-server appendonly yes, appendfsync everysec`,
    countSelf: true,
    async start() {
      redis = await startRedisServer({ appendfsync: 'everysec' });
      const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
      queue = new Queue(queueName, { connection, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
      flows = new FlowProducer({ connection });
      const q = queue;
      driver = new DagDriver(async (jobs) => {
        if (jobs.length === 1) await q.add('task', jobs[0]);
        else await q.addBulk(jobs.map((data) => ({ name: 'task', data })));
      }, counters());
      const d = driver;
      worker = new Worker(queueName, async (job: Job) => {
        if (job.name === 'task') await d.handle(job.data as DagJob);
        else await fanoutJob(job);
      }, { connection, concurrency: slots });
      await worker.waitUntilReady();
    },
    setTaskBody(body) { (driver as DagDriver).body = body; },
    independent: async (n) => only(await (driver as DagDriver).run(independentDag(n))),
    chain: async (n) => only(await (driver as DagDriver).run(chainDag(n))),
    async fanout(width) {
      const done = new Promise<void>((resolve) => { fanout = { width, timings: new Array(width + 2).fill(undefined), finished: resolve }; });
      const submitted = now();
      await (queue as Queue).add('src', {});
      await done;
      return { submitted, tasks: (fanout as FanoutState).timings as TaskTiming[] };
    },
    async layered(runs, layers, width): Promise<LayeredTimings> {
      const r = await (driver as DagDriver).run(layeredDag(layers, width), runs);
      return { submitted: r.submitted, tasks: r.perRun.flatMap((p) => p.tasks), runMakespans: r.makespans };
    },
    async stop() {
      await worker?.close();
      await flows?.close();
      await queue?.close();
      await redis?.stop();
    },
  };
}
