import { buildTaskEnv } from './task-env';
import type { TaskLaunch } from './runtime';

describe('buildTaskEnv', () => {
  const task: TaskLaunch = {
    attemptId: 'att', runId: 'run', workflow: 'w', task: 't', attempt: 2, command: ['x'], args: [], timeoutMs: 0,
    env: [{ name: 'SKEIN_RUN_ID', value: 'spoofed', secret: false }, { name: 'MINE', value: 'v', secret: false }],
    logicalDate: new Date('2026-05-01T10:00:00Z'),
  };

  it('sets the SKEIN_* variables last, so a task cannot spoof them, with the data interval', () => {
    const env = buildTaskEnv({ PATH: '/bin' }, { ...task, dataInterval: { start: new Date('2026-05-01T10:00:00Z'), end: new Date('2026-05-01T11:00:00Z') } }, '/tmp/out');
    expect(env).toMatchObject({
      PATH: '/bin', MINE: 'v', SKEIN_RUN_ID: 'run', SKEIN_ATTEMPT: '2', SKEIN_OUTPUT_PATH: '/tmp/out',
      SKEIN_LOGICAL_DATE: '2026-05-01T10:00:00.000Z', SKEIN_DATA_INTERVAL_START: '2026-05-01T10:00:00.000Z', SKEIN_DATA_INTERVAL_END: '2026-05-01T11:00:00.000Z',
    });
  });

  it('uses the logical date for both ends of a run without an interval', () => {
    expect(buildTaskEnv({}, task, '/o')).toMatchObject({ SKEIN_DATA_INTERVAL_START: '2026-05-01T10:00:00.000Z', SKEIN_DATA_INTERVAL_END: '2026-05-01T10:00:00.000Z' });
  });
});
