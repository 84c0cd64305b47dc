import pino from 'pino';
import { startFakeKubeServer, type FakeKubeServer } from '@skein/testing';
import type { OutputFlow, TaskOutput } from '../runtime';
import { createHttpKubeClient } from './http-kube-client';
import { buildJobManifest, type KubernetesTaskLaunch } from './job-manifest';
import { createKubernetesRuntime, type KubernetesRuntime } from './kubernetes-runtime';
import { secretReferences } from './secret-values';

const logger = pino({ level: 'silent' });
const NAMESPACE = 'skein';
let fake: FakeKubeServer;
const runtimes: KubernetesRuntime[] = [];
let seq = 0;

function runtime(redactSecrets: boolean): KubernetesRuntime {
  const client = createHttpKubeClient({ connection: { server: fake.url }, qps: 1000, burst: 1000 });
  const created = createKubernetesRuntime({ client, logger, namespace: NAMESPACE, logDrainMs: 5000, redactSecrets });
  runtimes.push(created);
  return created;
}

/** A task whose env takes `DB_PASSWORD` from Secret `db` (key `password`) and every key of Secret `api`. */
function task(kubernetes: KubernetesTaskLaunch['kubernetes'] = {
  envValueFrom: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
  envFrom: [{ secretRef: { name: 'api' }, prefix: 'API_' }],
}): KubernetesTaskLaunch {
  seq += 1;
  return {
    attemptId: `0000000000secrets${String(seq).padStart(9, '0')}`,
    runId: '0000000000run0000000000001', workflow: 'wf', task: `t${seq}`, attempt: 1,
    image: 'example.com/sh:1', command: ['sh', '-c', 'echo "db=$DB_PASSWORD token=$API_TOKEN"'], args: [], env: [],
    timeoutMs: 0, logicalDate: new Date('2026-01-01T00:00:00Z'), kubernetes,
  };
}

/** An always-open {@link OutputFlow} that records what it is told to redact. */
function recordingFlow(): OutputFlow & { hidden: string[] } {
  const hidden: string[] = [];
  return { hidden, writable: true, drained: () => Promise.resolve(), redactValues: (values) => { hidden.push(...values); } };
}

function collect(): { lines: TaskOutput[]; onOutput: (line: TaskOutput) => void } {
  const lines: TaskOutput[] = [];
  return { lines, onOutput: (line) => lines.push(line) };
}

beforeEach(async () => {
  fake = await startFakeKubeServer();
});

afterEach(async () => {
  for (const r of runtimes.splice(0)) r.stop();
  await fake.stop();
});

describe('secretReferences', () => {
  it('lists each Secret of the task container once: the keys it uses, or all for envFrom', () => {
    const job = buildJobManifest(task({
      envValueFrom: [
        { name: 'A', valueFrom: { secretKeyRef: { name: 'db', key: 'user' } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 'db', key: 'password', optional: true } } },
        { name: 'C', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
        { name: 'D', valueFrom: { secretKeyRef: { name: 'extra', key: 'k', optional: true } } },
      ],
      envFrom: [{ secretRef: { name: 'api' } }, { configMapRef: { name: 'common' } }],
    }), { namespace: NAMESPACE });
    expect(secretReferences(job)).toEqual([
      { name: 'db', keys: new Set(['user', 'password']), optional: false },
      { name: 'extra', keys: new Set(['k']), optional: true },
      { name: 'api', keys: undefined, optional: false },
    ]);
  });

  it('counts env a podTemplate adds to the task container, not other containers\' env', () => {
    const job = buildJobManifest(task({
      podTemplate: { spec: { containers: [
        { name: 'task', env: [{ name: 'EXTRA', valueFrom: { secretKeyRef: { name: 'extra', key: 'token' } } }] },
        { name: 'sidecar', image: 'example.com/proxy:1', envFrom: [{ secretRef: { name: 'proxy' } }] },
      ] } },
    }), { namespace: NAMESPACE });
    expect(secretReferences(job)).toEqual([{ name: 'extra', keys: new Set(['token']), optional: false }]);
  });
});

describe('the kubernetes runtime with redactSecrets', () => {
  it('reads the referenced Secrets before creating the Job and hands the used values to the flow', async () => {
    fake.createSecret(NAMESPACE, 'db', { password: 's3cr3t-db', user: 'not-used-by-the-task' });
    fake.createSecret(NAMESPACE, 'api', { TOKEN: 'tok-123', URL: 'https://api.example.com' });
    const flow = recordingFlow();
    const out = collect();
    let hiddenAtCreate: string[] | undefined;
    void fake.waitFor(() => (fake.calls()['create jobs'] ?? 0) > 0).then(() => (hiddenAtCreate = [...flow.hidden]));
    const result = await runtime(true).launch(task(), out.onOutput, flow).result;
    expect(result).toMatchObject({ ok: true });
    // The container really got the values (the fake kubelet resolves them), so they need hiding.
    expect(out.lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['db=s3cr3t-db token=tok-123']);
    expect(flow.hidden.sort()).toEqual(['https://api.example.com', 's3cr3t-db', 'tok-123']);
    expect(hiddenAtCreate?.sort()).toEqual(['https://api.example.com', 's3cr3t-db', 'tok-123']);
    expect(fake.calls()['get secrets']).toBe(2);
  });

  it('reads no Secret without the setting', async () => {
    fake.createSecret(NAMESPACE, 'db', { password: 's3cr3t-db' });
    fake.createSecret(NAMESPACE, 'api', { TOKEN: 'tok-123' });
    const flow = recordingFlow();
    const result = await runtime(false).launch(task(), collect().onOutput, flow).result;
    expect(result).toMatchObject({ ok: true });
    expect(flow.hidden).toEqual([]);
    expect(fake.calls()['get secrets']).toBeUndefined();
  });

  it('fails the attempt before its Job exists when a Secret is missing, with the API\'s reason in the log', async () => {
    fake.createSecret(NAMESPACE, 'db', { password: 's3cr3t-db' });
    const out = collect();
    const result = await runtime(true).launch(task(), out.onOutput, recordingFlow()).result;
    const message = 'the Secret skein/api the task\'s env comes from could not be read, so its values could not be hidden in the task log: ' +
      'GET /api/v1/namespaces/skein/secrets/api: 404 secrets "api" not found';
    expect(result).toMatchObject({ ok: false, reason: 'SPAWN_FAILED', message });
    expect(out.lines).toEqual([expect.objectContaining({ stream: 'system', text: message })]);
    expect(fake.calls()['create jobs']).toBeUndefined();
  });

  it('fails the attempt when reading a Secret is forbidden (the optional RBAC grant is missing)', async () => {
    fake.failNext({ verb: 'get', resource: 'secrets', status: 403, message: 'secrets "db" is forbidden: User "system:serviceaccount:skein:skein-executor" cannot get resource "secrets"' });
    const result = await runtime(true).launch(task(), collect().onOutput, recordingFlow()).result;
    expect(result).toMatchObject({ ok: false, reason: 'SPAWN_FAILED' });
    expect(result.message).toContain('skein/db');
    expect(result.message).toContain('403 secrets "db" is forbidden');
    expect(fake.calls()['create jobs']).toBeUndefined();
  });

  it('goes on without an optional Secret that does not exist (the container gets nothing from it either)', async () => {
    fake.createSecret(NAMESPACE, 'db', { password: 's3cr3t-db' });
    const flow = recordingFlow();
    const result = await runtime(true).launch(task({
      envValueFrom: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
      envFrom: [{ secretRef: { name: 'api', optional: true } }],
    }), collect().onOutput, flow).result;
    expect(result).toMatchObject({ ok: true });
    expect(flow.hidden).toEqual(['s3cr3t-db']);
  });
});
