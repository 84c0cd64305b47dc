import { imageReferenceProblem, quantityProblem } from './image-reference';
import { formatIssue } from './issues';
import { parseWorkflowFile } from './parse-workflow';
import type { TaskSpec } from './workflow';

const file = (body: string) => `apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: w}
spec:
${body}`;
const problems = (source: string) => parseWorkflowFile(source, 'w.yaml').errors.map(formatIssue);
const tasksOf = (source: string): readonly TaskSpec[] => {
  const r = parseWorkflowFile(source, 'w.yaml');
  expect(r.errors.map(formatIssue)).toEqual([]);
  return r.workflows[0]!.spec.spec.tasks;
};

describe('the kubernetes block', () => {
  it('reads every field and layers the defaults under the task', () => {
    const [task] = tasksOf(file(`  defaults:
    image: ghcr.io/acme/base:1.0
    kubernetes:
      namespace: data
      imagePullPolicy: IfNotPresent
      labels: {team: data}
      resources: {requests: {cpu: 250m, memory: 256Mi}}
      volumes: [{name: scratch, emptyDir: {}}]
      tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}]
      imagePullSecrets: [regcred]
  tasks:
    - name: a
      command: [run]
      kubernetes:
        env:
          - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
          - {name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode, optional: true}}}
        envFrom: [{configMapRef: {name: common}, prefix: C_}]
        resources: {limits: {memory: 1Gi, cpu: 2}}
        volumeMounts: [{name: scratch, mountPath: /scratch}]
        nodeSelector: {disktype: ssd}
        affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}
        serviceAccountName: etl
        imagePullSecrets: [{name: other}]
        securityContext: {runAsNonRoot: true}
        podSecurityContext: {fsGroup: 2000}
        labels: {tier: batch}
        annotations: {"example.com/owner": "Data Team"}
        podTemplate: {spec: {priorityClassName: high}}
        cleanup: deleteSucceeded
`));
    expect(task!.kubernetes).toEqual({
      namespace: 'data',
      imagePullPolicy: 'IfNotPresent',
      labels: { team: 'data', tier: 'batch' },
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi', cpu: '2' } },
      volumes: [{ name: 'scratch', emptyDir: {} }],
      tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
      imagePullSecrets: ['regcred', 'other'],
      envValueFrom: [
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode', optional: true } } },
      ],
      envFrom: [{ prefix: 'C_', configMapRef: { name: 'common' } }],
      volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      nodeSelector: { disktype: 'ssd' },
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
      serviceAccountName: 'etl',
      securityContext: { runAsNonRoot: true },
      podSecurityContext: { fsGroup: 2000 },
      annotations: { 'example.com/owner': 'Data Team' },
      podTemplate: { spec: { priorityClassName: 'high' } },
      cleanup: 'deleteSucceeded',
    });
  });

  it('leaves tasks without one unchanged', () => {
    expect(tasksOf(file('  tasks:\n    - {name: a, command: run}\n'))[0]).not.toHaveProperty('kubernetes');
  });

  it('names the field of every bad value', () => {
    expect(problems(file(`  tasks:
    - name: a
      image: Ubuntu:22.04
      kubernetes:
        imagePullPolicy: Sometimes
        resources: {limits: {memory: 1GB, cpu: "-1"}}
        volumeMounts: [{name: data, mountPath: /data}]
        env: [{name: X, valueFrom: {secretKeyRef: {name: db}}}]
        cleanup: never
        colour: blue
`))).toEqual([
      expect.stringMatching(/^w\.yaml:7:14: spec\.tasks\[0\]\.image: image "Ubuntu:22\.04" is not a valid image reference/),
      expect.stringMatching(/^w\.yaml:9:26: spec\.tasks\[0\]\.kubernetes\.imagePullPolicy: unknown value "Sometimes"/),
      expect.stringMatching(/^w\.yaml:10:38: spec\.tasks\[0\]\.kubernetes\.resources\.limits\.memory: "1GB" is not a resource quantity/),
      expect.stringMatching(/^w\.yaml:10:48: spec\.tasks\[0\]\.kubernetes\.resources\.limits\.cpu: "-1" is not a resource quantity/),
      expect.stringMatching(/^w\.yaml:11:31: spec\.tasks\[0\]\.kubernetes\.volumeMounts\[0\]\.name: volume mount names no declared volume "data"/),
      expect.stringMatching(/^w\.yaml:12:51: spec\.tasks\[0\]\.kubernetes\.env\[0\]\.valueFrom\.secretKeyRef\.key: missing required field "key"/),
      expect.stringMatching(/^w\.yaml:13:18: spec\.tasks\[0\]\.kubernetes\.cleanup: unknown value "never"/),
      expect.stringMatching(/^w\.yaml:14:9: spec\.tasks\[0\]\.kubernetes\.colour: unknown field "colour"/),
    ]);
  });

  it('accepts a mount whose volume comes from the defaults or the podTemplate', () => {
    const [a, b] = tasksOf(file(`  defaults:
    kubernetes: {volumes: [{name: cache, emptyDir: {}}]}
  tasks:
    - {name: a, command: run, kubernetes: {volumeMounts: [{name: cache, mountPath: /cache}]}}
    - name: b
      command: run
      kubernetes:
        volumeMounts: [{name: cfg, mountPath: /etc/cfg}]
        podTemplate: {spec: {volumes: [{name: cfg, configMap: {name: cfg}}]}}
`));
    expect(a!.kubernetes?.volumeMounts).toEqual([{ name: 'cache', mountPath: '/cache' }]);
    expect(b!.kubernetes?.volumes).toEqual([{ name: 'cache', emptyDir: {} }]);
  });
});

describe('image references', () => {
  it.each(['python:3.12', 'ghcr.io/acme/etl:1.4', 'localhost:5000/x', 'elixir@sha256:' + 'a'.repeat(64), 'registry.example.com:443/a/b-c_d.e:v1.2-rc'])('accepts %s', (image) => {
    expect(imageReferenceProblem(image)).toBeUndefined();
  });
  it.each(['Python:3', 'python:', 'a b', 'ghcr.io/acme/:1', 'x@sha256:zz', 'x:-bad', 'bad_host.io:abc/x'])('refuses %s', (image) => {
    expect(imageReferenceProblem(image)).toBeDefined();
  });
});

describe('quantities', () => {
  it.each(['500m', '1Gi', '2', '0.5', '1e3', '128974848'])('accepts %s', (q) => expect(quantityProblem(q)).toBeUndefined());
  it.each(['1GB', '-1', 'lots', '1.2.3', ''])('refuses %s', (q) => expect(quantityProblem(q)).toBeDefined());
});
