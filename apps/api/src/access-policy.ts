/**
 * Who may call what: the one table of every method of the public API and the role it needs, and the
 * REST routes mapped onto those methods. The gRPC interceptor and the REST middleware both read it.
 * A method or route missing here is refused to everyone but admins (fail closed), and
 * access-policy.test.ts fails until it is added, so a new method cannot slip through unguarded.
 */
import type { TokenRoleName } from '@skein/store';

export type Role = TokenRoleName;

/** What a method needs: `public` (no token: health checking, reflection) or a role, and whether it is audited. */
export interface MethodRule {
  readonly access: 'public' | Role;
  /** Mutating calls are written to the audit log. */
  readonly mutating: boolean;
}

const read = (access: 'public' | Role = 'viewer'): MethodRule => ({ access, mutating: false });
const write = (access: Role): MethodRule => ({ access, mutating: true });

/** Every gRPC method by its full name (`package.Service/Method`). */
export const METHOD_RULES: Readonly<Record<string, MethodRule>> = {
  'grpc.health.v1.Health/Check': read('public'),
  'grpc.health.v1.Health/Watch': read('public'),
  'grpc.health.v1.Health/List': read('public'),
  'grpc.reflection.v1.ServerReflection/ServerReflectionInfo': read('public'),
  'grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': read('public'),

  'skein.v1.WorkflowService/ApplyWorkflow': write('admin'),
  'skein.v1.WorkflowService/ValidateWorkflow': read(),
  'skein.v1.WorkflowService/GetWorkflow': read(),
  'skein.v1.WorkflowService/ListWorkflows': read(),
  'skein.v1.WorkflowService/PauseWorkflow': write('operator'),
  'skein.v1.WorkflowService/ResumeWorkflow': write('operator'),
  'skein.v1.WorkflowService/ListWorkflowVersions': read(),
  'skein.v1.WorkflowService/DeleteWorkflow': write('admin'),

  'skein.v1.RunService/TriggerRun': write('operator'),
  'skein.v1.RunService/GetRun': read(),
  'skein.v1.RunService/ListRuns': read(),
  'skein.v1.RunService/ListTaskRuns': read(),
  'skein.v1.RunService/CancelRun': write('operator'),
  'skein.v1.RunService/BackfillRuns': write('operator'),
  'skein.v1.RunService/RetryRun': write('operator'),
  'skein.v1.RunService/GetTaskRun': read(),
  'skein.v1.RunService/WatchRun': read(),

  'skein.v1.LogService/GetLogs': read(),
  'skein.v1.LogService/TailLogs': read(),

  'skein.v1.TemplateService/ApplyTemplate': write('admin'),
  'skein.v1.TemplateService/GetTemplate': read(),
  'skein.v1.TemplateService/ListTemplates': read(),
  'skein.v1.TemplateService/RenderTask': read(),
  'skein.v1.TemplateService/DeleteTemplate': write('admin'),
  'skein.v1.WorkflowService/CreateWorkflow': write('admin'),
  'skein.v1.WorkflowService/UpdateWorkflow': write('admin'),
  'skein.v1.PoolService/ApplyPool': write('admin'),
  'skein.v1.PoolService/GetPool': read(),
  'skein.v1.PoolService/ListPools': read(),
  'skein.v1.PoolService/DeletePool': write('admin'),

  'skein.v1.TokenService/CreateToken': write('admin'),
  'skein.v1.TokenService/ListTokens': read('admin'),
  'skein.v1.TokenService/RevokeToken': write('admin'),

  'skein.v1.AuditService/ListAuditEvents': read('admin'),
};

/** What a method missing from the table gets: admins only, not audited as nothing is known of it. */
const UNLISTED: MethodRule = { access: 'admin', mutating: true };

export function ruleOf(method: string): MethodRule {
  return METHOD_RULES[method] ?? UNLISTED;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Whether a token of role `have` may call a method that needs `need`. */
export function roleAllows(have: Role, need: 'public' | Role): boolean {
  return need === 'public' || RANK[have] >= RANK[need];
}

/** A REST route, written exactly as it is registered with express, and the method it calls. */
export interface RouteRule {
  readonly verb: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly path: string;
  /** A key of {@link METHOD_RULES}. */
  readonly method: string;
}

const route = (verb: RouteRule['verb'], path: string, method: string): RouteRule => ({ verb, path, method });

/** Every REST route (rest-router.ts and the routers it mounts). */
export const ROUTE_RULES: readonly RouteRule[] = [
  route('GET', '/healthz', 'grpc.health.v1.Health/Check'),
  // The OpenAPI document describes the API, like reflection does.
  route('GET', '/v1/openapi.json', 'grpc.reflection.v1.ServerReflection/ServerReflectionInfo'),

  route('POST', '/v1/workflows\\:apply', 'skein.v1.WorkflowService/ApplyWorkflow'),
  route('POST', '/v1/workflows\\:validate', 'skein.v1.WorkflowService/ValidateWorkflow'),
  route('GET', '/v1/workflows', 'skein.v1.WorkflowService/ListWorkflows'),
  route('POST', '/v1/workflows', 'skein.v1.WorkflowService/CreateWorkflow'),
  route('PATCH', '/v1/workflows/:w', 'skein.v1.WorkflowService/UpdateWorkflow'),
  route('POST', '/v1/workflows/:w\\:pause', 'skein.v1.WorkflowService/PauseWorkflow'),
  route('POST', '/v1/workflows/:w\\:resume', 'skein.v1.WorkflowService/ResumeWorkflow'),
  route('GET', '/v1/workflows/:w/versions', 'skein.v1.WorkflowService/ListWorkflowVersions'),
  route('DELETE', '/v1/workflows/:w', 'skein.v1.WorkflowService/DeleteWorkflow'),
  route('GET', '/v1/workflows/:w', 'skein.v1.WorkflowService/GetWorkflow'),

  route('POST', '/v1/workflows/:w/runs', 'skein.v1.RunService/TriggerRun'),
  route('GET', '/v1/workflows/:w/runs', 'skein.v1.RunService/ListRuns'),
  route('POST', '/v1/workflows/:w/runs\\:backfill', 'skein.v1.RunService/BackfillRuns'),
  route('POST', '/v1/workflows/:w/runs/:r\\:retry', 'skein.v1.RunService/RetryRun'),
  route('POST', '/v1/workflows/:w/runs/:r\\:cancel', 'skein.v1.RunService/CancelRun'),
  route('GET', '/v1/workflows/:w/runs/:r\\:watch', 'skein.v1.RunService/WatchRun'),
  route('GET', '/v1/workflows/:w/runs/:r', 'skein.v1.RunService/GetRun'),
  route('GET', '/v1/workflows/:w/runs/:r/tasks', 'skein.v1.RunService/ListTaskRuns'),
  route('GET', '/v1/workflows/:w/runs/:r/tasks/:t', 'skein.v1.RunService/GetTaskRun'),
  route('GET', '/v1/workflows/:w/runs/:r/tasks/:t/logs\\:follow', 'skein.v1.LogService/TailLogs'),
  route('GET', '/v1/workflows/:w/runs/:r/tasks/:t/logs', 'skein.v1.LogService/GetLogs'),

  route('POST', '/v1/templates\\:apply', 'skein.v1.TemplateService/ApplyTemplate'),
  route('POST', '/v1/templates\\:render', 'skein.v1.TemplateService/RenderTask'),
  route('GET', '/v1/templates', 'skein.v1.TemplateService/ListTemplates'),
  route('GET', '/v1/templates/:t', 'skein.v1.TemplateService/GetTemplate'),
  route('DELETE', '/v1/templates/:t', 'skein.v1.TemplateService/DeleteTemplate'),
  route('POST', '/v1/pools\\:apply', 'skein.v1.PoolService/ApplyPool'),
  route('GET', '/v1/pools', 'skein.v1.PoolService/ListPools'),
  route('GET', '/v1/pools/:p', 'skein.v1.PoolService/GetPool'),
  route('DELETE', '/v1/pools/:p', 'skein.v1.PoolService/DeletePool'),

  route('POST', '/v1/tokens', 'skein.v1.TokenService/CreateToken'),
  route('GET', '/v1/tokens', 'skein.v1.TokenService/ListTokens'),
  route('POST', '/v1/tokens/:id\\:revoke', 'skein.v1.TokenService/RevokeToken'),

  route('GET', '/v1/auditEvents', 'skein.v1.AuditService/ListAuditEvents'),
];

/** A route pattern as a regular expression over the request path (`:name` is one segment, `\\:` a colon). */
function compile(path: string): RegExp {
  let source = '';
  for (const part of path.split(/(\\:|:[A-Za-z_]\w*)/)) {
    if (part === '\\:') source += ':';
    else if (part.startsWith(':')) source += '[^/]+';
    else source += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}/?$`, 'i');
}

const COMPILED = ROUTE_RULES.map((rule) => ({ rule, pattern: compile(rule.path) }));

/**
 * The rule of an HTTP request: the method rule of the route it matches; where two routes could match
 * (`{run}:watch` also looks like a `{run}`), the stricter wins. Undefined when no route matches.
 */
export function routeRuleOf(verb: string, path: string): { method: string; rule: MethodRule } | undefined {
  let best: { method: string; rule: MethodRule } | undefined;
  for (const { rule, pattern } of COMPILED) {
    if (rule.verb !== verb || !pattern.test(path)) continue;
    const candidate = { method: rule.method, rule: ruleOf(rule.method) };
    if (!best || stricter(candidate.rule, best.rule)) best = candidate;
  }
  return best;
}

function stricter(a: MethodRule, b: MethodRule): boolean {
  const rank = (r: MethodRule) => (r.access === 'public' ? 0 : RANK[r.access]) * 2 + (r.mutating ? 1 : 0);
  return rank(a) > rank(b);
}

/** The table's own (uncompiled) pattern matcher, for the completeness test. */
export const compileRoutePattern = compile;
