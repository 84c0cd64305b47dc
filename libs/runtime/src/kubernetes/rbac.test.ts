import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML is walked by known paths below
type Doc = Record<string, any>;
const file = path.resolve(__dirname, '../../../../deploy/rbac/executor-rbac.yaml');
const secretsFile = path.resolve(__dirname, '../../../../deploy/rbac/executor-secrets-rbac.yaml');

describe('deploy/rbac/executor-rbac.yaml', () => {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
  const byKind = (kind: string) => docs.filter((d) => d['kind'] === kind);

  it('grants the executor exactly what the Kubernetes runtime calls, nothing more', () => {
    const [role] = byKind('Role');
    const rules = (role?.['rules'] as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>).map((r) => ({ ...r, verbs: [...r.verbs].sort() }));
    expect(rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'delete', 'get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
    expect(byKind('ClusterRole')).toHaveLength(0);
  });

  it('binds the Role to the executor ServiceAccount', () => {
    const [binding] = byKind('RoleBinding');
    const [account] = byKind('ServiceAccount');
    expect(binding?.['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'skein-executor' });
    expect(binding?.['subjects']).toEqual([{ kind: 'ServiceAccount', name: account?.['metadata']?.name, namespace: account?.['metadata']?.namespace }]);
  });
});

describe('deploy/rbac/executor-secrets-rbac.yaml (only with EXECUTOR_K8S_REDACT_SECRETS)', () => {
  const base = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
  const docs = parseAllDocuments(readFileSync(secretsFile, 'utf8')).map((d) => d.toJS() as Doc);
  const byKind = (kind: string) => docs.filter((d) => d['kind'] === kind);

  it('grants get on secrets in the namespace, and nothing else (no list, no watch, no cluster role)', () => {
    expect(docs.map((d) => d['kind'])).toEqual(['Role', 'RoleBinding']);
    const [role] = byKind('Role');
    expect(role?.['rules']).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    expect(role?.['metadata']?.name).not.toBe('skein-executor');
  });

  it('binds its own Role to the executor ServiceAccount of the base file, in the same namespace', () => {
    const [role] = byKind('Role');
    const [binding] = byKind('RoleBinding');
    const [account] = base.filter((d) => d['kind'] === 'ServiceAccount');
    expect(role?.['metadata']?.namespace).toBe(account?.['metadata']?.namespace);
    expect(binding?.['metadata']?.namespace).toBe(account?.['metadata']?.namespace);
    expect(binding?.['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role?.['metadata']?.name });
    expect(binding?.['subjects']).toEqual([{ kind: 'ServiceAccount', name: account?.['metadata']?.name, namespace: account?.['metadata']?.namespace }]);
  });
});
