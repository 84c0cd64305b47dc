import type { KubernetesSpec } from '@skein/domain';
import { buildJobManifest, type KubernetesTaskLaunch } from './job-manifest';
import { jobNameFor, MAX_JOB_NAME } from './job-name';
import { validateJob } from './job-schema.test-helper';

const base: KubernetesTaskLaunch = {
  attemptId: '06f1abcdefghjkmnpqrstvwxyz',
  runId: '06f1run0000000000000000000', workflow: 'sports-etl', task: 'transform', attempt: 2,
  image: 'registry.example.com/data/transform:1.4', command: ['mix', 'run'], args: ['--season', '2026'],
  env: [{ name: 'MODE', value: 'full', secret: false }], timeoutMs: 90_500, logicalDate: new Date('2026-01-01T00:00:00Z'),
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

const full: KubernetesSpec = {
  namespace: 'data', imagePullPolicy: 'IfNotPresent',
  envValueFrom: [
    { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    { name: 'REGION', valueFrom: { configMapKeyRef: { name: 'settings', key: 'region' } } },
  ],
  envFrom: [{ configMapRef: { name: 'common' } }],
  resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  volumes: [{ name: 'scratch', emptyDir: {} }], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
  nodeSelector: { pool: 'batch' }, tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
  serviceAccountName: 'etl', imagePullSecrets: ['registry'], podSecurityContext: { runAsNonRoot: true },
  securityContext: { allowPrivilegeEscalation: false }, labels: { team: 'data' }, annotations: { owner: 'data@example.com' },
  podTemplate: { spec: { priorityClassName: 'batch-low', containers: [{ name: 'task', workingDir: '/work' }] }, metadata: { labels: { extra: 'yes' } } },
};

describe('buildJobManifest', () => {
  it('makes a Job that never retries, with the deadline, labels, trace context and SKEIN_* env', () => {
    const job = buildJobManifest(base, { namespace: 'skein' });
    expect(validateJob(job)).toEqual([]);
    expect(job.metadata.name).toBe('transform-06f1abcdefghjkmnpqrstvwxyz');
    expect(job.metadata.namespace).toBe('skein');
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBe(91);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'skein', 'app.kubernetes.io/part-of': 'skein', 'app.kubernetes.io/name': 'skein-task', 'app.kubernetes.io/component': 'task',
      'skein.dev/workflow': 'sports-etl', 'skein.dev/run': base.runId, 'skein.dev/task': 'transform', 'skein.dev/attempt': base.attemptId,
    });
    expect(job.metadata.annotations?.['skein.dev/traceparent']).toBe(base.traceparent);
    const container = job.spec.template.spec.containers[0];
    expect(container).toMatchObject({ name: 'task', image: base.image, command: ['mix', 'run'], args: ['--season', '2026'], terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' });
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e['name'], e['value']]));
    expect(env).toMatchObject({ MODE: 'full', SKEIN_ATTEMPT: '2', SKEIN_TASK: 'transform', SKEIN_OUTPUT_PATH: '/dev/termination-log', TRACEPARENT: base.traceparent });
  });

  it('carries the whole container spec and merges the podTemplate override last', () => {
    const job = buildJobManifest({ ...base, kubernetes: full }, { namespace: 'skein' });
    expect(validateJob(job)).toEqual([]);
    expect(job.metadata.namespace).toBe('data');
    const pod = job.spec.template;
    expect(pod.metadata?.labels).toMatchObject({ team: 'data', extra: 'yes', 'skein.dev/attempt': base.attemptId });
    expect(pod.spec).toMatchObject({
      nodeSelector: { pool: 'batch' }, serviceAccountName: 'etl', imagePullSecrets: [{ name: 'registry' }], priorityClassName: 'batch-low',
      volumes: [{ name: 'scratch', emptyDir: {} }], securityContext: { runAsNonRoot: true },
    });
    expect(pod.spec.containers).toHaveLength(1);
    expect(pod.spec.containers[0]).toMatchObject({
      workingDir: '/work', imagePullPolicy: 'IfNotPresent', resources: full.resources, envFrom: [{ configMapRef: { name: 'common' } }],
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }], securityContext: { allowPrivilegeEscalation: false },
    });
    expect(pod.spec.containers[0]?.env).toEqual(expect.arrayContaining([{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }]));
  });

  it('keeps the labels the watch needs and restartPolicy Never whatever the override says', () => {
    const job = buildJobManifest({ ...base, kubernetes: { podTemplate: { metadata: { labels: { 'skein.dev/attempt': 'x' } }, spec: { restartPolicy: 'Always' } } } }, { namespace: 'skein' });
    expect(job.spec.template.metadata?.labels?.['skein.dev/attempt']).toBe(base.attemptId);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('the schema check catches a misplaced field', () => {
    const job = buildJobManifest(base, { namespace: 'skein' });
    const broken = { ...job, spec: { ...job.spec, template: { ...job.spec.template, spec: { ...job.spec.template.spec, restartPolicy: 'Sometimes', nodeSelecter: {} } } } };
    expect(validateJob(broken)).toEqual([
      'batch/v1 Job schema: data/spec/template/spec/restartPolicy must be equal to one of the allowed values',
      'spec.template.spec.restartPolicy: "Sometimes" is not one of Always, OnFailure, Never',
      'spec.template.spec.nodeSelecter: unknown field',
    ]);
  });

  it('the real schema catches a wrong type', () => {
    const job = buildJobManifest(base, { namespace: 'skein' });
    expect(validateJob({ ...job, spec: { ...job.spec, backoffLimit: 'zero' } })[0]).toBe('batch/v1 Job schema: data/spec/backoffLimit must be integer');
  });
});

describe('jobNameFor', () => {
  it('is deterministic, DNS-safe and at most 63 characters', () => {
    const long = jobNameFor('06f1abcdefghjkmnpqrstvwxyz', 'A_very_long_task_name_that_goes_on_and_on_and_on_forever');
    expect(long.length).toBeLessThanOrEqual(MAX_JOB_NAME);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(long.endsWith('-06f1abcdefghjkmnpqrstvwxyz')).toBe(true);
    expect(jobNameFor('06f1abcdefghjkmnpqrstvwxyz', 'x')).toBe(jobNameFor('06f1abcdefghjkmnpqrstvwxyz', 'x'));
    expect(jobNameFor('Not/A:Plain-Id', 'x')).toMatch(/^x-[0-9a-f]{32}$/);
  });
});
