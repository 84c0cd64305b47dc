import type { TaskSpec } from '@skein/domain';
import { TaskDispatch } from '@skein/proto';
import { buildDispatch } from './dispatch';

const task: TaskSpec = {
  name: 'score', image: 'ghcr.io/acme/rust-tasks:1.82', command: ['score'], args: [], env: [], dependsOn: [], retries: 0,
  retryDelayMs: 0, timeoutMs: 0, queue: 'default', triggerRule: 'allSuccess',
};
const input = (spec: TaskSpec) => ({
  run: { id: 'run1', workflowId: 'w', workflowVersion: 1, params: {}, logicalDate: new Date('2026-01-01T00:00:00Z') },
  task: spec, attemptId: 'att1', attempt: 1, outputs: new Map(), traceparent: '', now: new Date(),
});

describe('buildDispatch', () => {
  it('carries the task\'s kubernetes settings as JSON, and nothing for a task without them', () => {
    const kubernetes = { namespace: 'data', resources: { limits: { memory: '1Gi' } }, volumes: [{ name: 'tmp', emptyDir: {} }] };
    const withK8s = TaskDispatch.decode(buildDispatch(input({ ...task, kubernetes })).payload);
    expect(JSON.parse(withK8s.kubernetesJson)).toEqual(kubernetes);
    expect(TaskDispatch.decode(buildDispatch(input(task)).payload).kubernetesJson).toBe('');
  });
});
