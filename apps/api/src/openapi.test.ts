import { readFileSync } from 'node:fs';
import path from 'node:path';
import type express from 'express';
import pino from 'pino';
import { createApiContext } from './api-context';
import { createApiMethods } from './api-methods';
import { REST_ROUTES } from './openapi-routes';
import { createRestApp } from './rest-router';
import { createAccessControl } from './access-control';
import { createRunWatchHub } from './run-watch-hub';
import { call, startTestApi, workflowYaml, type TestApi } from './test-harness';

type Json = Record<string, unknown>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];

/**
 * What keeps `doc` from being a well-formed OpenAPI 3.1 document, as far as its structure goes (no
 * validator dependency: these are the rules of https://spec.openapis.org/oas/v3.1.0 this document could break).
 */
function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (typeof doc['openapi'] !== 'string' || !/^3\.1\.\d+$/.test(doc['openapi'])) problems.push('openapi must be 3.1.x');
  const info = doc['info'];
  if (!isObject(info) || typeof info['title'] !== 'string' || typeof info['version'] !== 'string') problems.push('info needs title and version');
  const schemas = isObject(doc['components']) && isObject(doc['components']['schemas']) ? doc['components']['schemas'] : {};
  const operationIds = new Set<string>();

  // Every $ref resolves, every `type` is a JSON Schema type.
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${where}[${i}]`));
    if (!isObject(node)) return;
    const ref = node['$ref'];
    if (ref !== undefined) {
      const name = typeof ref === 'string' && ref.startsWith('#/components/schemas/') ? ref.slice('#/components/schemas/'.length) : undefined;
      if (name === undefined || !(name in schemas)) problems.push(`${where}: unresolved $ref ${String(ref)}`);
    }
    const type = node['type'];
    if (typeof type === 'string' && !SCHEMA_TYPES.includes(type) && !where.endsWith('.properties')) problems.push(`${where}: bad type ${type}`);
    for (const [key, value] of Object.entries(node)) walk(value, `${where}.${key}`);
  };
  walk(doc, '#');

  const paths = doc['paths'];
  if (!isObject(paths) || Object.keys(paths).length === 0) return [...problems, 'paths must be a non-empty object'];
  for (const [template, item] of Object.entries(paths)) {
    if (!template.startsWith('/')) problems.push(`${template}: a path must start with /`);
    if (!isObject(item)) continue;
    const templateParams = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item)) {
      const where = `${method} ${template}`;
      if (!HTTP_METHODS.includes(method)) problems.push(`${where}: not an HTTP method`);
      if (!isObject(op)) continue;
      const id = op['operationId'];
      if (typeof id !== 'string' || operationIds.has(id)) problems.push(`${where}: operationId missing or not unique`);
      else operationIds.add(id);
      const parameters = (op['parameters'] ?? []) as Json[];
      const seen = new Set<string>();
      for (const p of parameters) {
        const key = `${String(p['in'])}:${String(p['name'])}`;
        if (seen.has(key)) problems.push(`${where}: parameter ${key} twice`);
        seen.add(key);
        if (!['query', 'header', 'path', 'cookie'].includes(String(p['in']))) problems.push(`${where}: parameter ${key} has a bad "in"`);
        if (!isObject(p['schema'])) problems.push(`${where}: parameter ${key} has no schema`);
        if (p['in'] === 'path' && (p['required'] !== true || !templateParams.includes(String(p['name'])))) problems.push(`${where}: path parameter ${key} must be required and in the template`);
      }
      for (const name of templateParams) if (!seen.has(`path:${name}`)) problems.push(`${where}: template parameter {${name}} is not declared`);
      const body = op['requestBody'];
      if (body !== undefined && (!isObject(body) || !isObject(body['content']))) problems.push(`${where}: requestBody needs content`);
      const responses = op['responses'];
      if (!isObject(responses) || Object.keys(responses).length === 0) {
        problems.push(`${where}: no responses`);
        continue;
      }
      for (const [code, response] of Object.entries(responses)) {
        if (!/^(default|[1-5]\d\d|[1-5]XX)$/.test(code)) problems.push(`${where}: bad response key ${code}`);
        if (!isObject(response) || typeof response['description'] !== 'string') problems.push(`${where} ${code}: a response needs a description`);
      }
    }
  }
  return problems;
}

/** `METHOD /path/{}`: both express's `:w` and OpenAPI's `{workflow}` parameters become `{}`. */
function routeKey(method: string, routePath: string): string {
  return `${method.toUpperCase()} ${routePath.replace(/\\:/g, ':').replace(/\/:\w+/g, '/{}').replace(/\{\w+\}/g, '{}')}`;
}

/** Every method + path express has a handler for, walking into mounted routers. */
function expressRoutes(app: express.Express): Set<string> {
  interface Layer { route?: { path: string; methods: Record<string, boolean> }; handle: { stack?: Layer[] } }
  const keys = new Set<string>();
  const visit = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) keys.add(routeKey(method, layer.route.path));
      else if (layer.handle.stack) visit(layer.handle.stack);
    }
  };
  visit((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return keys;
}

describe('the OpenAPI document', () => {
  let api: TestApi;
  let doc: Json;
  let runId: string;
  let tokenId: string;

  beforeAll(async () => {
    api = await startTestApi();
    await call(api.workflows.applyWorkflow.bind(api.workflows), { source: workflowYaml('oa'), fileName: 'oa.yaml' });
    const template = readFileSync(path.join(__dirname, '..', '..', '..', 'examples', 'templates', 'python.yaml'), 'utf8');
    const res = await api.fetch(`/v1/templates:apply`, { method: 'POST', body: JSON.stringify({ source: template }), signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    runId = (await call(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/oa', params: {}, requestId: '' })).run!.runId;
    const pool = await api.fetch('/v1/pools:apply', { method: 'POST', body: JSON.stringify({ source: 'apiVersion: skein.dev/v1\nkind: Pool\nmetadata: {name: oa-pool}\nspec: {slots: 1}\n' }) });
    expect(pool.status).toBe(200);
    const token = (await (await api.fetch('/v1/tokens', { method: 'POST', body: JSON.stringify({ displayName: 'oa', role: 'TOKEN_ROLE_VIEWER' }) })).json()) as { token: { name: string } };
    tokenId = token.token.name.replace(/^tokens\//, '');
    const served = await api.fetch(`/v1/openapi.json`, { signal: AbortSignal.timeout(10_000) });
    expect(served.status).toBe(200);
    doc = (await served.json()) as Json;
  });

  afterAll(async () => {
    await api.close();
  });

  it('is well-formed OpenAPI 3.1', () => {
    expect(openApiProblems(doc)).toEqual([]);
    const schemas = (doc['components'] as Json)['schemas'] as Json;
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['google.rpc.Status', 'google.rpc.ErrorInfo', 'google.rpc.BadRequest', 'skein.v1.Workflow', 'skein.v1.Run']));
  });

  it('the structure check catches what it is for', () => {
    const broken = { ...doc, openapi: '3.0.0', paths: { 'v1/x/{id}': { get: { responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Nope' } } } } } } } } };
    expect(openApiProblems(broken)).toEqual(expect.arrayContaining([
      'openapi must be 3.1.x', 'v1/x/{id}: a path must start with /', 'get v1/x/{id}: operationId missing or not unique',
      'get v1/x/{id}: template parameter {id} is not declared', 'get v1/x/{id} 200: a response needs a description',
      expect.stringContaining('unresolved $ref #/components/schemas/Nope'),
    ]));
  });

  it('documents exactly the routes express has', () => {
    const watchHub = createRunWatchHub({ pool: api.pool, logger: pino({ level: 'silent' }) });
    try {
      const methods = createApiMethods(createApiContext({ pool: api.pool, runs: api.scheduler.runs, logs: api.scheduler.logs, logger: pino({ level: 'silent' }) }), { watchHub });
      const logger = pino({ level: 'silent' });
      const real = expressRoutes(createRestApp(methods, { pool: api.pool, logger, access: createAccessControl({ pool: api.pool, logger }) }));
      const documented = new Set<string>();
      for (const [template, item] of Object.entries(doc['paths'] as Record<string, Json>)) {
        for (const method of Object.keys(item)) documented.add(routeKey(method, template));
      }
      expect([...real].filter((key) => !documented.has(key))).toEqual([]);
      expect([...documented].filter((key) => !real.has(key))).toEqual([]);
    } finally {
      watchHub.close();
    }
  });

  it('every documented path and method answers, none with 404', async () => {
    const values: Record<string, string> = { workflow: 'oa', run: runId, task: 'extract', template: 'python', pool: 'oa-pool', token: tokenId };
    for (const route of REST_ROUTES) {
      const url = `${api.baseUrl}${route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? name)}`;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 10_000);
      try {
        const res = await fetch(url, { method: route.method.toUpperCase(), body: ['post', 'patch'].includes(route.method) ? '{}' : undefined, signal: abort.signal, headers: { authorization: `Bearer ${api.adminToken}` } });
        const where = `${route.method.toUpperCase()} ${route.path} → ${res.status}`;
        expect({ where, notFound: res.status === 404 }).toEqual({ where, notFound: false });
        if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
          expect('sse' in route.response).toBe(true);
        } else {
          const body = (await res.json()) as Json;
          // An error is a google.rpc.Status, never an HTML page.
          if (res.status >= 400) expect(body).toMatchObject({ code: expect.any(Number), message: expect.any(String), details: expect.arrayContaining([expect.objectContaining({ domain: 'skein.dev' })]) });
        }
      } finally {
        clearTimeout(timer);
        abort.abort();
      }
    }
    const unknown = await api.fetch(`/v1/nothing-here`, { signal: AbortSignal.timeout(10_000) });
    expect(unknown.status).toBe(404);
  });

  it('describes the fields the API really returns', async () => {
    const schemas = (doc['components'] as Json)['schemas'] as Record<string, { properties: Json }>;
    const got = (await (await api.fetch(`/v1/workflows/oa`, { signal: AbortSignal.timeout(10_000) })).json()) as { workflow: Json };
    expect(Object.keys(schemas['skein.v1.Workflow']!.properties)).toEqual(expect.arrayContaining(Object.keys(got.workflow)));
    const run = (await (await api.fetch(`/v1/workflows/oa/runs/${runId}`, { signal: AbortSignal.timeout(10_000) })).json()) as { run: Json };
    expect(Object.keys(schemas['skein.v1.Run']!.properties)).toEqual(expect.arrayContaining(Object.keys(run.run)));
  });
});
