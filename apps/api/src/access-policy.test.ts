import type { Express } from 'express';
import pino from 'pino';
import { createPool } from '@skein/store';
import { createAccessControl } from './access-control';
import { METHOD_RULES, ROUTE_RULES, roleAllows, routeRuleOf } from './access-policy';
import { createApiContext } from './api-context';
import { createApiMethods } from './api-methods';
import { createGrpcServer } from './grpc-server';
import { createRestApp } from './rest-router';
import { createRunWatchHub } from './run-watch-hub';

interface Layer { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } }

/** Every route registered on an express app (and the routers it mounts), as `VERB path`. */
function registeredRoutes(app: Express): string[] {
  const walk = (stack: Layer[]): string[] => stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((verb) => `${verb.toUpperCase()} ${layer.route?.path ?? ''}`);
    return layer.handle?.stack ? walk(layer.handle.stack) : [];
  });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
}

describe('the access policy', () => {
  // Built as the service builds them; the pool never connects (nothing is called).
  const pool = createPool('postgres://skein@127.0.0.1:1/unused');
  const logger = pino({ level: 'silent' });
  const watchHub = createRunWatchHub({ pool, logger });
  const noRuns = { createRun: () => Promise.reject(new Error('unused')), cancelRun: () => Promise.reject(new Error('unused')), backfill: () => Promise.reject(new Error('unused')), retryRun: () => Promise.reject(new Error('unused')) };
  const methods = createApiMethods(createApiContext({ pool, runs: noRuns, logs: { getLogs: () => Promise.reject(new Error('unused')) } as never, logger }), { watchHub });
  const access = createAccessControl({ pool, logger });

  afterAll(async () => {
    watchHub.close();
    await pool.end();
  });

  it('has a rule for every gRPC method the server registers, and no rule for a method it does not', () => {
    const { server } = createGrpcServer(methods, logger, { reflection: true, access });
    const registered = [...(server as unknown as { handlers: Map<string, unknown> }).handlers.keys()].map((path) => path.slice(1));
    expect(registered.length).toBeGreaterThan(30);
    expect(registered.filter((method) => !(method in METHOD_RULES))).toEqual([]);
    expect(Object.keys(METHOD_RULES).filter((method) => !registered.includes(method))).toEqual([]);
  });

  it('has a rule for every REST route, naming a method of the table', () => {
    const routes = registeredRoutes(createRestApp(methods, { pool, logger, access }));
    const listed = new Set(ROUTE_RULES.map((rule) => `${rule.verb} ${rule.path}`));
    expect(routes.length).toBeGreaterThan(25);
    expect(routes.filter((route) => !listed.has(route))).toEqual([]);
    expect(ROUTE_RULES.filter((rule) => !(rule.method in METHOD_RULES))).toEqual([]);
  });

  it('marks every method that is not a read as mutating and needing at least operator', () => {
    const reads = /\/(Get|List|Watch|Tail|Validate|Render|Check|ServerReflectionInfo)\w*$/;
    for (const [method, rule] of Object.entries(METHOD_RULES)) {
      if (reads.test(method)) continue;
      expect({ method, mutating: rule.mutating, access: rule.access }).toEqual({ method, mutating: true, access: expect.stringMatching(/^(operator|admin)$/) });
    }
  });

  it('maps requests to their routes, the stricter rule winning where two match', () => {
    expect(routeRuleOf('POST', '/v1/workflows/etl:pause')?.method).toBe('skein.v1.WorkflowService/PauseWorkflow');
    expect(routeRuleOf('GET', '/v1/workflows/etl/runs/01abc:watch')?.method).toBe('skein.v1.RunService/WatchRun');
    expect(routeRuleOf('DELETE', '/v1/workflows/etl')?.rule).toEqual({ access: 'admin', mutating: true });
    expect(routeRuleOf('POST', '/v1/workflows/etl/runs/')?.method).toBe('skein.v1.RunService/TriggerRun');
    expect(routeRuleOf('POST', '/v1/tokens/01abc:revoke')?.method).toBe('skein.v1.TokenService/RevokeToken');
    expect(routeRuleOf('GET', '/healthz')?.rule.access).toBe('public');
    expect(routeRuleOf('GET', '/v1/nothing/here')).toBeUndefined();
    expect(routeRuleOf('PUT', '/v1/workflows/etl')).toBeUndefined();
  });

  it('orders the roles viewer < operator < admin', () => {
    expect(roleAllows('viewer', 'public')).toBe(true);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('operator', 'admin')).toBe(false);
    expect(roleAllows('admin', 'viewer')).toBe(true);
  });
});
