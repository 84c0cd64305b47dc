import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { bearerTokenInterceptor } from '@skein/config';
import {
  AuditServiceClient, ListRunsRequest, RunServiceClient, TokenRole, TokenServiceClient, WorkflowServiceClient, type AuditEvent,
} from '@skein/proto';
import { METHOD_RULES, ROUTE_RULES, roleAllows, routeRuleOf, type Role } from './access-policy';
import { decodeErrorDetails } from './status';
import { createApiToken, registerBootstrapToken } from './token-secrets';
import { call, callError, startTestApi, workflowYaml, type TestApi } from './test-harness';

/** Clients of every service this test calls, sending `token` (none when undefined). */
function clientsOf(api: TestApi, token: string | undefined) {
  const options = token === undefined ? {} : { interceptors: [bearerTokenInterceptor(token)] };
  const creds = credentials.createInsecure();
  return {
    workflows: new WorkflowServiceClient(api.grpcAddress, creds, options),
    runs: new RunServiceClient(api.grpcAddress, creds, options),
    tokens: new TokenServiceClient(api.grpcAddress, creds, options),
    audit: new AuditServiceClient(api.grpcAddress, creds, options),
    close() { for (const client of [this.workflows, this.runs, this.tokens, this.audit]) client.close(); },
  };
}
type Clients = ReturnType<typeof clientsOf>;

describe('authentication, authorisation and the audit log', () => {
  let api: TestApi;
  let admin: Clients;
  let anonymous: Clients;
  const opened: Clients[] = [];

  const open = (token: string | undefined) => {
    const clients = clientsOf(api, token);
    opened.push(clients);
    return clients;
  };
  const createToken = async (displayName: string, role: TokenRole) => call(admin.tokens.createToken.bind(admin.tokens), { displayName, role });
  const auditEvents = async (): Promise<AuditEvent[]> => (await call(admin.audit.listAuditEvents.bind(admin.audit), { pageSize: 1000, pageToken: '' })).auditEvents;
  const reason = (err: ServiceError) => decodeErrorDetails(err.metadata).errorInfo?.reason;

  beforeAll(async () => {
    api = await startTestApi();
    admin = open(api.adminToken);
    anonymous = open(undefined);
  });

  afterAll(async () => {
    for (const clients of opened) clients.close();
    await api.close();
  });

  describe('over gRPC', () => {
    it('refuses a call without a token, or with a malformed or unknown one, before reading or changing anything', async () => {
      const missing = await callError(anonymous.workflows.applyWorkflow.bind(anonymous.workflows), { source: workflowYaml('sneaky'), fileName: 'sneaky.yaml' });
      expect(missing.code).toBe(status.UNAUTHENTICATED);
      expect(decodeErrorDetails(missing.metadata).errorInfo).toMatchObject({ reason: 'TOKEN_MISSING', domain: 'skein.dev' });
      for (const token of ['not-a-token', `skn_${'x'.repeat(43)}`]) {
        const clients = open(token);
        const err = await callError(clients.workflows.listWorkflows.bind(clients.workflows), { pageSize: 0, pageToken: '', filter: '' });
        expect([err.code, reason(err)]).toEqual([status.UNAUTHENTICATED, 'TOKEN_INVALID']);
      }
      const workflows = await call(admin.workflows.listWorkflows.bind(admin.workflows), { pageSize: 0, pageToken: '', filter: '' });
      expect(workflows.workflows.map((w) => w.name)).not.toContain('workflows/sneaky');
      expect((await auditEvents()).filter((e) => e.method.endsWith('/ApplyWorkflow') && e.resource.includes('sneaky'))).toEqual([]);
    });

    it('refuses a server-streaming call without a token', async () => {
      const stream = anonymous.runs.watchRun({ name: 'workflows/-/runs/whatever' }, new Metadata(), { deadline: Date.now() + 10_000 });
      const err = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
      expect([err.code, reason(err)]).toEqual([status.UNAUTHENTICATED, 'TOKEN_MISSING']);
    });

    it('lets each role do what it may and no more, and audits every mutating call', async () => {
      await call(admin.workflows.applyWorkflow.bind(admin.workflows), { source: workflowYaml('guarded'), fileName: 'guarded.yaml' });
      const viewerToken = await createToken('dashboard', TokenRole.TOKEN_ROLE_VIEWER);
      const operatorToken = await createToken('on-call', TokenRole.TOKEN_ROLE_OPERATOR);
      expect(viewerToken.secret).toMatch(/^skn_[A-Za-z0-9_-]{43}$/);
      expect(viewerToken.token?.secretPrefix).toBe(viewerToken.secret.slice(0, 8));
      const viewer = open(viewerToken.secret);
      const operator = open(operatorToken.secret);

      expect((await call(viewer.workflows.getWorkflow.bind(viewer.workflows), { name: 'workflows/guarded' })).workflow?.name).toBe('workflows/guarded');
      const denied = await callError(viewer.runs.triggerRun.bind(viewer.runs), { parent: 'workflows/guarded', params: {}, requestId: '' });
      expect(denied.code).toBe(status.PERMISSION_DENIED);
      expect(decodeErrorDetails(denied.metadata).errorInfo).toMatchObject({
        reason: 'PERMISSION_DENIED', domain: 'skein.dev', metadata: { method: 'skein.v1.RunService/TriggerRun', requiredRole: 'operator', role: 'viewer' },
      });
      expect(denied.details).toBe('skein.v1.RunService/TriggerRun needs the operator role; token dashboard has viewer');
      const runs = await call(admin.runs.listRuns.bind(admin.runs), ListRunsRequest.fromPartial({ parent: 'workflows/guarded' }));
      expect(runs.runs).toEqual([]);

      const triggered = await call(operator.runs.triggerRun.bind(operator.runs), { parent: 'workflows/guarded', params: {}, requestId: '' });
      const applyDenied = await callError(operator.workflows.applyWorkflow.bind(operator.workflows), { source: workflowYaml('guarded'), fileName: 'g.yaml' });
      expect(applyDenied.code).toBe(status.PERMISSION_DENIED);
      const tokensDenied = await callError(operator.tokens.listTokens.bind(operator.tokens), { pageSize: 0, pageToken: '', showRevoked: false });
      expect(tokensDenied.code).toBe(status.PERMISSION_DENIED);
      expect((await callError(viewer.audit.listAuditEvents.bind(viewer.audit), { pageSize: 0, pageToken: '' })).code).toBe(status.PERMISSION_DENIED);

      const events = (await auditEvents()).map((e) => [e.tokenDisplayName, e.method, e.resource, e.outcome, e.transport]);
      expect(events).toEqual(expect.arrayContaining([
        ['test-admin', 'skein.v1.WorkflowService/ApplyWorkflow', 'workflows/guarded', 'OK', 'grpc'],
        ['test-admin', 'skein.v1.TokenService/CreateToken', viewerToken.token?.name, 'OK', 'grpc'],
        ['dashboard', 'skein.v1.RunService/TriggerRun', 'workflows/guarded', 'PERMISSION_DENIED', 'grpc'],
        ['on-call', 'skein.v1.RunService/TriggerRun', triggered.run?.name, 'OK', 'grpc'],
        ['on-call', 'skein.v1.WorkflowService/ApplyWorkflow', '', 'PERMISSION_DENIED', 'grpc'],
      ]));
      // One event per call, with the status the caller got.
      expect(events.filter(([who, method]) => who === 'dashboard' && method === 'skein.v1.RunService/TriggerRun')).toHaveLength(1);
      expect(events.filter(([, , , outcome]) => outcome === 'UNIMPLEMENTED' || outcome === 'INTERNAL')).toEqual([]);
      // Reads are not audited.
      expect(events.filter(([, method]) => String(method).includes('/Get') || String(method).includes('/List'))).toEqual([]);
    });

    it('stores only a hash of a secret, lists tokens without secrets, and refuses a revoked token', async () => {
      const created = await createToken('short-lived', TokenRole.TOKEN_ROLE_ADMIN);
      const stored = await api.pool.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM api_tokens t`);
      expect(stored.rows.some((r) => r.row.includes(created.secret) || r.row.includes(created.secret.slice(8)))).toBe(false);
      const listed = await call(admin.tokens.listTokens.bind(admin.tokens), { pageSize: 0, pageToken: '', showRevoked: false });
      expect(listed.tokens.find((t) => t.name === created.token?.name)).toMatchObject({ displayName: 'short-lived', role: TokenRole.TOKEN_ROLE_ADMIN });
      expect(JSON.stringify(listed)).not.toContain(created.secret);

      const shortLived = open(created.secret);
      await call(shortLived.workflows.listWorkflows.bind(shortLived.workflows), { pageSize: 0, pageToken: '', filter: '' });
      const revoked = await call(admin.tokens.revokeToken.bind(admin.tokens), { name: created.token?.name ?? '' });
      expect(revoked.token?.revokeTime).toBeInstanceOf(Date);
      const err = await callError(shortLived.workflows.listWorkflows.bind(shortLived.workflows), { pageSize: 0, pageToken: '', filter: '' });
      expect([err.code, reason(err)]).toEqual([status.UNAUTHENTICATED, 'TOKEN_INVALID']);
      const active = await call(admin.tokens.listTokens.bind(admin.tokens), { pageSize: 0, pageToken: '', showRevoked: false });
      expect(active.tokens.map((t) => t.name)).not.toContain(created.token?.name);
      const all = await call(admin.tokens.listTokens.bind(admin.tokens), { pageSize: 1, pageToken: '', showRevoked: true });
      expect(all.tokens).toHaveLength(1);
      expect(all.nextPageToken).not.toBe('');
    });

    it('pages through the audit log newest first', async () => {
      const all = await auditEvents();
      expect(all.length).toBeGreaterThan(3);
      const ids = all.map((e) => Number(e.name.split('/')[1]));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      const paged: string[] = [];
      let pageToken = '';
      do {
        const page = await call(admin.audit.listAuditEvents.bind(admin.audit), { pageSize: 2, pageToken });
        paged.push(...page.auditEvents.map((e) => e.name));
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      expect(paged).toEqual(all.map((e) => e.name));
      const bad = await callError(admin.audit.listAuditEvents.bind(admin.audit), { pageSize: 0, pageToken: 'bogus' });
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
    });

    it('registers a bootstrap admin secret once, and refuses a malformed one', async () => {
      const secret = `skn_${'b'.repeat(64)}`;
      await registerBootstrapToken(api.pool, secret);
      await registerBootstrapToken(api.pool, secret);
      const { rows } = await api.pool.query(`SELECT display_name, role FROM api_tokens WHERE display_name = 'bootstrap-admin'`);
      expect(rows).toEqual([{ display_name: 'bootstrap-admin', role: 'admin' }]);
      const bootstrap = open(secret);
      expect((await call(bootstrap.tokens.listTokens.bind(bootstrap.tokens), { pageSize: 0, pageToken: '', showRevoked: false })).tokens.length).toBeGreaterThan(0);
      await expect(registerBootstrapToken(api.pool, 'short')).rejects.toThrow(/must be `skn_` followed by 32 to 128 characters/);
    });

    it('rejects bad token requests with INVALID_ARGUMENT and an unknown token with NOT_FOUND', async () => {
      const noRole = await callError(admin.tokens.createToken.bind(admin.tokens), { displayName: 'x', role: TokenRole.TOKEN_ROLE_UNSPECIFIED });
      expect([noRole.code, decodeErrorDetails(noRole.metadata).fieldViolations[0]?.field]).toEqual([status.INVALID_ARGUMENT, 'role']);
      const badName = await callError(admin.tokens.createToken.bind(admin.tokens), { displayName: 'a b', role: TokenRole.TOKEN_ROLE_VIEWER });
      expect(decodeErrorDetails(badName.metadata).fieldViolations[0]?.field).toBe('display_name');
      const unknown = await callError(admin.tokens.revokeToken.bind(admin.tokens), { name: `tokens/${'0'.repeat(26)}` });
      expect([unknown.code, reason(unknown)]).toEqual([status.NOT_FOUND, 'TOKEN_NOT_FOUND']);
      const malformed = await callError(admin.tokens.revokeToken.bind(admin.tokens), { name: '../etc/passwd' });
      expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    });
  });

  describe('over REST', () => {
    const rest = async (method: string, path: string, token: string | undefined, body?: unknown) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
      const res = await fetch(`${api.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const errorReason = (body: Record<string, unknown>) => (body['details'] as Array<{ reason?: string }>)[0]?.reason;

    it('answers 401 without a valid token and 403 for a role that may not, as google.rpc.Status', async () => {
      expect((await rest('GET', '/healthz', undefined)).status).toBe(200);
      const missing = await rest('POST', '/v1/workflows:apply', undefined, { source: workflowYaml('rest-sneaky') });
      expect(missing).toMatchObject({ status: 401, body: { code: status.UNAUTHENTICATED } });
      expect(errorReason(missing.body)).toBe('TOKEN_MISSING');
      expect((await rest('GET', '/v1/workflows/rest-sneaky', api.adminToken)).status).toBe(404);
      expect((await rest('GET', '/v1/workflows', 'skn_nope')).status).toBe(401);
      expect((await rest('GET', '/v1/no/such/route', undefined)).status).toBe(401);

      const { body: created } = await rest('POST', '/v1/tokens', api.adminToken, { displayName: 'rest-viewer', role: 'TOKEN_ROLE_VIEWER' });
      const viewer = created['secret'] as string;
      expect((created['token'] as { role: string }).role).toBe('TOKEN_ROLE_VIEWER');
      await rest('POST', '/v1/workflows:apply', api.adminToken, { source: workflowYaml('rest-guarded'), fileName: 'g.yaml' });
      expect((await rest('GET', '/v1/workflows/rest-guarded', viewer)).status).toBe(200);
      const denied = await rest('POST', '/v1/workflows/rest-guarded/runs', viewer, {});
      expect(denied).toMatchObject({ status: 403, body: { code: status.PERMISSION_DENIED } });
      expect(errorReason(denied.body)).toBe('PERMISSION_DENIED');
      expect((await rest('DELETE', '/v1/workflows/rest-guarded', viewer)).status).toBe(403);
      expect((await rest('GET', '/v1/tokens', viewer)).status).toBe(403);
      // A route missing from the access table is for admins only.
      expect((await rest('GET', '/v1/no/such/route', viewer)).status).toBe(403);
      expect((await rest('GET', '/v1/no/such/route', api.adminToken)).status).toBe(404);

      const tokenName = (created['token'] as { name: string }).name;
      const revoked = await rest('POST', `/v1/${tokenName}:revoke`, api.adminToken);
      expect(revoked.status).toBe(200);
      expect((await rest('GET', '/v1/workflows', viewer)).status).toBe(401);

      const audit = await rest('GET', '/v1/auditEvents?pageSize=1000', api.adminToken);
      const events = (audit.body['auditEvents'] as Array<Record<string, string>>).map((e) => [e['tokenDisplayName'], e['method'], e['resource'], e['outcome'], e['transport']]);
      expect(events).toEqual(expect.arrayContaining([
        ['test-admin', 'skein.v1.TokenService/CreateToken', tokenName, 'OK', 'http'],
        ['test-admin', 'skein.v1.WorkflowService/ApplyWorkflow', 'workflows/rest-guarded', 'OK', 'http'],
        ['rest-viewer', 'skein.v1.RunService/TriggerRun', 'workflows/rest-guarded/runs', 'PERMISSION_DENIED', 'http'],
        ['rest-viewer', 'skein.v1.WorkflowService/DeleteWorkflow', 'workflows/rest-guarded', 'PERMISSION_DENIED', 'http'],
        ['test-admin', 'skein.v1.TokenService/RevokeToken', tokenName, 'OK', 'http'],
      ]));
      expect(events.some(([, , resource]) => String(resource).includes('rest-sneaky'))).toBe(false);
    });
  });
});

describe('every method and route, without a token or with too weak a role', () => {
  let api: TestApi;
  let raw: Client;
  const tokens: Partial<Record<Role, string>> = {};
  const guarded = Object.entries(METHOD_RULES).filter(([, rule]) => rule.access !== 'public');

  /** Calls a method with an empty request (valid protobuf for every message): its status code. */
  function callRaw(method: string, token?: string): Promise<number> {
    const metadata = new Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    const path = `/${method}`;
    const identity = (b: Buffer) => b;
    const options = { deadline: Date.now() + 10_000 };
    return new Promise((resolve) => {
      if (method.endsWith('/WatchRun') || method.endsWith('/TailLogs')) {
        const stream = raw.makeServerStreamRequest(path, identity, identity, Buffer.alloc(0), metadata, options);
        stream.on('data', () => undefined);
        stream.on('error', (err: ServiceError) => resolve(err.code));
        stream.on('end', () => resolve(status.OK));
      } else {
        raw.makeUnaryRequest(path, identity, identity, Buffer.alloc(0), metadata, options, (err) => resolve(err ? err.code : status.OK));
      }
    });
  }

  async function rowCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const table of ['workflows', 'runs', 'task_templates', 'api_tokens', 'audit_events']) {
      const { rows } = await api.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      counts[table] = rows[0]?.n ?? -1;
    }
    return counts;
  }

  beforeAll(async () => {
    api = await startTestApi();
    raw = new Client(api.grpcAddress, credentials.createInsecure());
    for (const role of ['viewer', 'operator'] as const) tokens[role] = (await createApiToken(api.pool, role, role)).secret;
  });

  afterAll(async () => {
    raw.close();
    await api.close();
  });

  it('answers UNAUTHENTICATED to every guarded gRPC method and 401 to every guarded route, changing nothing', async () => {
    const before = await rowCounts();
    for (const [method] of guarded) {
      expect({ method, code: await callRaw(method) }).toEqual({ method, code: status.UNAUTHENTICATED });
      expect({ method, code: await callRaw(method, `skn_${'0'.repeat(43)}`) }).toEqual({ method, code: status.UNAUTHENTICATED });
    }
    for (const route of ROUTE_RULES.filter((r) => METHOD_RULES[r.method]?.access !== 'public')) {
      // `/:param` segments become `x`; escaped `:verb` suffixes become plain ones.
      const path = route.path.replace(/\/:[a-z]+/g, '/x').replace(/\\:/g, ':');
      expect(routeRuleOf(route.verb, path)?.method).toBe(route.method);
      const res = await fetch(`${api.baseUrl}${path}`, { method: route.verb, body: route.verb === 'GET' ? undefined : '{}' });
      expect({ route: `${route.verb} ${path}`, status: res.status }).toEqual({ route: `${route.verb} ${path}`, status: 401 });
      await res.body?.cancel();
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('answers PERMISSION_DENIED to every method a role may not call', async () => {
    for (const [method, rule] of guarded) {
      for (const role of ['viewer', 'operator'] as const) {
        if (roleAllows(role, rule.access)) continue;
        expect({ method, role, code: await callRaw(method, tokens[role]) }).toEqual({ method, role, code: status.PERMISSION_DENIED });
      }
    }
    for (const route of ROUTE_RULES) {
      const rule = METHOD_RULES[route.method];
      if (!rule || roleAllows('viewer', rule.access)) continue;
      const path = route.path.replace(/\/:[a-z]+/g, '/x').replace(/\\:/g, ':');
      const res = await fetch(`${api.baseUrl}${path}`, {
        method: route.verb, headers: { authorization: `Bearer ${tokens.viewer ?? ''}` }, body: route.verb === 'GET' ? undefined : '{}',
      });
      expect({ route: `${route.verb} ${path}`, status: res.status }).toEqual({ route: `${route.verb} ${path}`, status: 403 });
      await res.body?.cancel();
    }
  });
});
