import pino from 'pino';
import type { Job } from '@skein/runtime';
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
