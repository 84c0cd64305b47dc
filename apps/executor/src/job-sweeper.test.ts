import pino from 'pino';
import { createNatsBus, type Bus } from '@skein/bus';
import { createHttpKubeClient, createKubernetesRuntime, type Job, type KubernetesRuntime, type TaskLaunch } from '@skein/runtime';
import { startFakeKubeServer, startNatsServer, type FakeKubeServer, type NatsServer } from '@skein/testing';
import { AttemptSightings } from './attempt-sightings';
import { Heartbeat } from './heartbeat';
import { JobSweeper, jobStillNeeded } from './job-sweeper';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const MIN = 60_000;

function job(options: { createdAgoMs: number; deadlineSeconds?: number; finished?: 'Complete' | 'Failed'; completedAgoMs?: number; cleanup?: string }): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: {
      name: 'j', creationTimestamp: new Date(NOW - options.createdAgoMs).toISOString(),
      ...(options.cleanup && { annotations: { 'skein.dev/cleanup': options.cleanup } }),
    },
    spec: { template: {}, ...(options.deadlineSeconds !== undefined && { activeDeadlineSeconds: options.deadlineSeconds }) },
    ...(options.finished && {
      status: {
        conditions: [{ type: options.finished, status: 'True' }],
        ...(options.completedAgoMs !== undefined && { completionTime: new Date(NOW - options.completedAgoMs).toISOString() }),
      },
    }),
  } as Job;
}

describe('jobStillNeeded', () => {
  const grace = 10 * MIN;
  it('keeps a finished Job for the grace period, then lets it go', () => {
    expect(jobStillNeeded(job({ createdAgoMs: 30 * MIN, finished: 'Complete', completedAgoMs: 5 * MIN }), NOW, grace)).toBe(true);
    expect(jobStillNeeded(job({ createdAgoMs: 30 * MIN, finished: 'Complete', completedAgoMs: 11 * MIN }), NOW, grace)).toBe(false);
    expect(jobStillNeeded(job({ createdAgoMs: 30 * MIN, finished: 'Failed' }), NOW, grace)).toBe(false);
  });

  it('keeps a running Job until grace past its deadline; one with no deadline always', () => {
    expect(jobStillNeeded(job({ createdAgoMs: 20 * MIN, deadlineSeconds: 900 }), NOW, grace)).toBe(true);
    expect(jobStillNeeded(job({ createdAgoMs: 26 * MIN, deadlineSeconds: 900 }), NOW, grace)).toBe(false);
    expect(jobStillNeeded(job({ createdAgoMs: 24 * 60 * MIN }), NOW, grace)).toBe(true);
  });

  it('lets a running Job go once no heartbeat has named its attempt for the grace, deadline or not', () => {
    const heard = { listeningForMs: 11 * MIN };
    const running = job({ createdAgoMs: 24 * 60 * MIN });
    expect(jobStillNeeded(running, NOW, grace, { ...heard, lastSeenAt: undefined })).toBe(false);
    expect(jobStillNeeded(running, NOW, grace, { ...heard, lastSeenAt: NOW - 11 * MIN })).toBe(false);
    expect(jobStillNeeded(job({ createdAgoMs: 20 * MIN, deadlineSeconds: 3600 }), NOW, grace, { ...heard, lastSeenAt: undefined })).toBe(false);
    // Still followed; or heartbeats not heard for long enough yet; or the Job is too young to judge.
    expect(jobStillNeeded(running, NOW, grace, { ...heard, lastSeenAt: NOW - MIN })).toBe(true);
    expect(jobStillNeeded(running, NOW, grace, { listeningForMs: 5 * MIN, lastSeenAt: undefined })).toBe(true);
    expect(jobStillNeeded(job({ createdAgoMs: 5 * MIN }), NOW, grace, { ...heard, lastSeenAt: undefined })).toBe(true);
  });

  it('honours the cleanup policy recorded on the Job', () => {
    expect(jobStillNeeded(job({ createdAgoMs: 60 * MIN, finished: 'Complete', cleanup: 'keep' }), NOW, grace)).toBe(true);
    expect(jobStillNeeded(job({ createdAgoMs: 60 * MIN, finished: 'Failed', cleanup: 'deleteSucceeded' }), NOW, grace)).toBe(true);
    expect(jobStillNeeded(job({ createdAgoMs: 60 * MIN, finished: 'Complete', cleanup: 'deleteSucceeded' }), NOW, grace)).toBe(false);
  });
});

describe('JobSweeper', () => {
  it('sweeps the configured and the used namespaces, and survives a failing one', async () => {
    const swept: string[] = [];
    const runtime = {
      namespaces: ['data', 'default'],
      async sweep(namespace: string, isActive: (attemptId: string, job: Job) => Promise<boolean>) {
        swept.push(namespace);
        if (namespace === 'data') throw new Error('forbidden');
        return (await isActive('a1', job({ createdAgoMs: 60 * MIN, finished: 'Complete' }))) ? [] : [`${namespace}-job`];
      },
    };
    const sweeper = new JobSweeper({ runtime, logger: pino({ enabled: false }), namespaces: ['default'], now: () => NOW });
    expect(await sweeper.sweepOnce()).toEqual(['default-job']);
    expect(swept).toEqual(['default', 'data']);
    await sweeper.stop();
  });
});

describe('JobSweeper with heartbeats, against the fake API server and real NATS', () => {
  let fake: FakeKubeServer;
  let nats: NatsServer;
  let bus: Bus;
  const runtimes: KubernetesRuntime[] = [];
  const silent = pino({ enabled: false });

  function runtime(): KubernetesRuntime {
    const client = createHttpKubeClient({ connection: { server: fake.url }, qps: 1000, burst: 1000 });
    const created = createKubernetesRuntime({ client, logger: silent, namespace: 'skein' });
    runtimes.push(created);
    return created;
  }

  function launch(attemptId: string): TaskLaunch {
    return {
      attemptId, runId: '0000000000run0000000000001', workflow: 'wf', task: attemptId.slice(-6), attempt: 1,
      image: 'example.com/sh:1', command: ['sh', '-c', 'echo up; sleep 60'], args: [], env: [], timeoutMs: 0, logicalDate: new Date(0),
    };
  }

  beforeAll(async () => {
    fake = await startFakeKubeServer();
    nats = await startNatsServer();
    bus = await createNatsBus({ servers: nats.url, name: 'sweeper-test', logger: silent });
  });

  afterAll(async () => {
    for (const r of runtimes) r.stop();
    await bus.close();
    await nats.stop();
    await fake.stop();
  });

  it('deletes a running Job without a deadline that no executor follows, and keeps one an executor names', async () => {
    const orphan = '0000000000sweeporphan000001';
    const followed = '0000000000sweepfollow000001';
    // An executor launches both and dies: the Jobs keep running, with no activeDeadlineSeconds.
    const dead = runtime();
    const tasks = [orphan, followed].map((id) => dead.launch(launch(id), () => undefined));
    await Promise.all(tasks.map((t) => t.started));
    dead.stop();
    const jobsOf = (id: string) => fake.store.list('jobs', 'skein', `skein.dev/attempt=${id}`);
    expect(jobsOf(orphan)).toHaveLength(1);
    expect((jobsOf(orphan)[0] as unknown as Job).spec.activeDeadlineSeconds).toBeUndefined();

    let offset = 0;
    const now = () => Date.now() + offset;
    const sightings = new AttemptSightings(bus, silent, now);
    sightings.start();
    // Another executor adopted `followed`: its heartbeats name it.
    const beat = new Heartbeat(bus, 'executor-other@host', () => [followed], 60_000);
    const heard = async () => {
      // Core NATS: a beat sent before the subscription reached the server is lost, so beat until one is heard.
      const before = sightings.lastSeenAt(followed) ?? -1;
      for (let i = 0; i < 500 && (sightings.lastSeenAt(followed) ?? -1) <= before; i++) {
        beat.beat();
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await heard();
    const grace = 10 * MIN;
    const sweeper = new JobSweeper({ runtime: runtime(), logger: silent, namespaces: ['skein'], graceMs: grace, now, sightings });
    // Too early to judge: heartbeats not heard for the whole grace yet.
    expect(await sweeper.sweepOnce()).toEqual([]);

    offset = grace + MIN;
    await heard();
    const deleted = await sweeper.sweepOnce();
    expect(deleted).toHaveLength(1);
    expect(jobsOf(orphan)).toHaveLength(0);
    expect(jobsOf(followed)).toHaveLength(1);
    await sweeper.stop();
    await sightings.stop();
  }, 30_000);
});
