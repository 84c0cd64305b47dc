import {
  credentials, makeGenericClientConstructor, Metadata, status, type Client, type MethodDefinition, type ServiceDefinition, type ServiceError, type ClientOptions,
} from '@grpc/grpc-js';
import {
  AuditServiceService, LogServiceService, PoolServiceService, RunServiceService, TemplateServiceService, TokenServiceService, WorkflowServiceService,
} from '@skein/proto';
import { REST_ROUTES } from './openapi-routes';
import { encodePageToken } from './pagination';
import { call, startTestApi, workflowYaml, type TestApi } from './test-harness';

/**
 * Fuzzes the public surface with a seeded PRNG (set SKEIN_FUZZ_SEED to replay a failure): malformed
 * protobuf through a raw client, fuzzed fields in well-formed messages, wrong JSON types, huge strings,
 * unknown enum values, invalid page tokens, path traversal, SQL metacharacters and invalid UTF-8. Every
 * input must get a 4xx or a gRPC code other than INTERNAL/UNKNOWN, and the service must keep serving.
 */

const SEED = Number(process.env['SKEIN_FUZZ_SEED'] ?? 20261121);

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(SEED);
const int = (max: number) => Math.floor(random() * max);
function pick<T>(items: readonly T[]): T {
  return items[int(items.length)] as T;
}
const bytes = (length: number) => Buffer.from(Array.from({ length }, () => int(256)));

const HOSTILE_STRINGS = [
  '', ' ', '-', '..', '../', '../../etc/passwd', '%2e%2e', '%2e%2e%2f', '..%2f..%2f', '/', '//', 'workflows/../runs',
  "'; DROP TABLE workflows; --", "' OR '1'='1", '" OR 1=1 --', '\\', '%', '%00', '\u0000', '\u0000workflows', '$1', '?', '#', '*',
  '😀'.repeat(300), '\ud800', 'a'.repeat(100_000), 'x'.repeat(2_000), 'workflows/' + 'a'.repeat(300), '{{ params.x }}', '<script>',
  'RUN_STATE_BOGUS', 'null', 'true', '-1', '1e308', 'NaN',
];

function hostileString(real: readonly string[]): string {
  const roll = random();
  if (roll < 0.25) return pick(real);
  if (roll < 0.35) return pick(real) + pick(HOSTILE_STRINGS);
  if (roll < 0.45) return `workflows/${pick(HOSTILE_STRINGS)}/runs/${pick(HOSTILE_STRINGS)}`;
  if (roll < 0.5) return Array.from({ length: int(40) }, () => String.fromCharCode(int(0x3000))).join('');
  return pick(HOSTILE_STRINGS);
}

const BAD_PAGE_TOKENS = [
  'x', '====', 'AAAA', 'e30', '%%%', 'a'.repeat(10_000),
  encodePageToken({ k: 'runs', parent: 'x', time: 'not a time', id: '' }),
  encodePageToken({ k: 'workflows', after: 1 }),
  encodePageToken({ k: 'logs', parent: 'x', attempt: -1, after: 1e300 }),
  encodePageToken({ k: 'tasks', parent: "'; DROP TABLE runs; --", position: 1.5 }),
  Buffer.from('{"k":"workflows","after":"a"').toString('base64url'),
  Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url'),
];

const HOSTILE_INTS = [0, -1, -2147483648, 2147483647, 1, 1001, 10001, 99, 7];

/** A JSON-ish value, sometimes deeply nested or huge. */
function hostileValue(depth = 0): unknown {
  const roll = random();
  if (depth > 3 || roll < 0.4) return pick<unknown>([hostileString([]), int(1e6) - 5e5, random() < 0.5, null, 1e308, -0]);
  if (roll < 0.7) return Array.from({ length: int(4) }, () => hostileValue(depth + 1));
  return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(HOSTILE_STRINGS).slice(0, 50), hostileValue(depth + 1)]));
}

/** Nested `depth` levels deep: a stack overflow waiting to happen in any recursive walk. */
function deeplyNested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

type Message = Record<string, unknown>;

/** The request's default message (decoded from no bytes) with every field replaced by something hostile. */
function fuzzedMessage(method: MethodDefinition<unknown, unknown>, realNames: readonly string[]): Message {
  const message = method.requestDeserialize(Buffer.alloc(0)) as Message;
  for (const [key, value] of Object.entries(message)) {
    if (random() < 0.2) continue;
    if (key === 'pageToken') message[key] = random() < 0.7 ? pick(BAD_PAGE_TOKENS) : hostileString(realNames);
    else if (typeof value === 'string') message[key] = hostileString(realNames);
    else if (typeof value === 'number') message[key] = pick(HOSTILE_INTS);
    else if (typeof value === 'boolean') message[key] = random() < 0.5;
    else if (key === 'params' || key === 'spec') {
      message[key] = random() < 0.1 ? { deep: deeplyNested(40) } : Object.fromEntries(Array.from({ length: int(5) }, () => [pick(['season', 'x', '../', "';--", '']), hostileValue()]));
    } else if (key === 'updateMask') message[key] = Array.from({ length: int(4) }, () => pick(['spec', 'labels', '*', 'name', 'nope', '../', '']));
    else if (key.endsWith('Time') || key.startsWith('createTime')) message[key] = pick([undefined, new Date(0), new Date(8.64e15), new Date(-8.64e15)]);
  }
  return message;
}

/** Bytes that are not a valid encoding of anything, or a valid one broken. */
function malformedBytes(valid: Buffer): Buffer {
  switch (int(7)) {
    case 0: return bytes(int(64));
    case 1: return bytes(1 + int(4096));
    case 2: return valid.subarray(0, Math.max(0, valid.length - 1 - int(Math.max(1, valid.length))));
    case 3: {
      const copy = Buffer.from(valid);
      for (let i = 0; i < 1 + int(4) && copy.length > 0; i++) copy[int(copy.length)] = int(256);
      return copy;
    }
    case 4: return Buffer.from(pick([[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], [0x08], [0x0b], [0x0f], [0x0a, 0x05, 0x01], [0x12, 0x80]]));
    // Field 1 or 2 as a string of invalid UTF-8.
    case 5: return Buffer.from([pick([0x0a, 0x12]), 4, 0xff, 0xfe, 0xc3, 0x28]);
    default: return Buffer.concat([valid, bytes(1 + int(16))]);
  }
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/**
 * A TriggerRunRequest whose params Struct nests `depth` levels deep ({a: {a: ...}}), encoded by hand
 * (the generated encoder would itself overflow the stack): lengths are computed inside out, then written once.
 */
function deepParamsRequest(parent: string, depth: number): Buffer {
  // struct = 0x0a len(entry) entry; entry = 0x0a 1 'a' 0x12 len(value) value; value = 0x2a len(struct) struct
  const structLengths = [0];
  for (let i = 1; i <= depth; i++) {
    const inner = structLengths[i - 1]!;
    const value = 1 + varint(inner).length + inner;
    const entry = 3 + 1 + varint(value).length + value;
    structLengths.push(1 + varint(entry).length + entry);
  }
  const out: number[] = [0x0a, ...varint(Buffer.byteLength(parent)), ...Buffer.from(parent), 0x12, ...varint(structLengths[depth]!)];
  for (let i = depth; i >= 1; i--) {
    const inner = structLengths[i - 1]!;
    const value = 1 + varint(inner).length + inner;
    const entry = 3 + 1 + varint(value).length + value;
    out.push(0x0a, ...varint(entry), 0x0a, 1, 0x61, 0x12, ...varint(value), 0x2a, ...varint(inner));
  }
  return Buffer.from(out);
}

interface Outcome {
  readonly input: string;
  readonly code: number;
  readonly details: string;
}

const identity = (value: Buffer) => value;

/** A client that sends and receives raw bytes, for every method of a service. */
function rawClient(service: ServiceDefinition, address: string, options: ClientOptions): Client & Record<string, (...args: unknown[]) => unknown> {
  const raw: Record<string, MethodDefinition<Buffer, Buffer>> = {};
  for (const [name, method] of Object.entries(service) as [string, MethodDefinition<unknown, unknown>][]) {
    raw[name] = { ...method, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  }
  const Constructor = makeGenericClientConstructor(raw, 'raw');
  return new Constructor(address, credentials.createInsecure(), options) as unknown as Client & Record<string, (...args: unknown[]) => unknown>;
}

function hostileMetadata(): Metadata {
  const metadata = new Metadata();
  if (random() < 0.3) metadata.set('x-skein-trigger', pick(['manual', 'api', '', '../', 'x'.repeat(1000)]));
  if (random() < 0.3) metadata.set('traceparent', pick(['00-xyz', '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-01', "';--", 'f'.repeat(500)]));
  return metadata;
}

function callRaw(client: Record<string, (...args: unknown[]) => unknown>, name: string, method: MethodDefinition<unknown, unknown>, payload: Buffer): Promise<{ code: number; details: string }> {
  const metadata = hostileMetadata();
  if (!method.responseStream) {
    return new Promise((resolve) => {
      client[name]!(payload, metadata, { deadline: Date.now() + 10_000 }, (err: ServiceError | null) => resolve({ code: err?.code ?? status.OK, details: err?.details ?? '' }));
    });
  }
  return new Promise((resolve) => {
    // A stream that opens is cancelled at its first message: the point is how it opens.
    const stream = client[name]!(payload, metadata, { deadline: Date.now() + 3000 }) as NodeJS.EventEmitter & { cancel(): void };
    let settled = false;
    const settle = (code: number, details: string) => {
      if (settled) return;
      settled = true;
      resolve({ code, details });
    };
    stream.on('data', () => {
      settle(status.OK, 'streamed');
      stream.cancel();
    });
    stream.on('error', (err: ServiceError) => settle(err.code, err.details));
    stream.on('status', (s: { code: number; details: string }) => settle(s.code, s.details));
  });
}

const SERVICES: readonly ServiceDefinition[] = [
  WorkflowServiceService as unknown as ServiceDefinition, RunServiceService as unknown as ServiceDefinition,
  LogServiceService as unknown as ServiceDefinition, TemplateServiceService as unknown as ServiceDefinition,
  PoolServiceService as unknown as ServiceDefinition, TokenServiceService as unknown as ServiceDefinition,
  AuditServiceService as unknown as ServiceDefinition,
];

/** Whether an error body is a google.rpc.Status in JSON. */
function isStatusJson(text: string): boolean {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    return typeof body['code'] === 'number' && typeof body['message'] === 'string' && Array.isArray(body['details']);
  } catch {
    return false;
  }
}

const SERVER_FAULTS: readonly number[] = [status.INTERNAL, status.UNKNOWN];

describe(`fuzzing the public API (SKEIN_FUZZ_SEED=${SEED})`, () => {
  let api: TestApi;
  let realNames: string[];

  beforeAll(async () => {
    api = await startTestApi();
    await call(api.workflows.applyWorkflow.bind(api.workflows), { source: workflowYaml('fz', { params: '    season: {type: string, default: "2026"}' }), fileName: 'fz.yaml' });
    // Never named by the fuzzer (which may well delete fz): what shows the service still serves.
    await call(api.workflows.applyWorkflow.bind(api.workflows), { source: workflowYaml('canary'), fileName: 'canary.yaml' });
    const { run } = await call(api.runs.triggerRun.bind(api.runs), { parent: 'workflows/fz', params: {}, requestId: '' });
    realNames = ['workflows/fz', `workflows/fz/runs/${run!.runId}`, `workflows/-/runs/${run!.runId}`, `workflows/fz/runs/${run!.runId}/tasks/extract`, 'templates/python', 'workflows/-'];
  });

  afterAll(async () => {
    await api.close();
  });

  async function expectServing(): Promise<void> {
    const health = await api.fetch(`/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    const got = await call(api.workflows.getWorkflow.bind(api.workflows), { name: 'workflows/canary' });
    expect(got.workflow?.name).toBe('workflows/canary');
  }

  it('answers malformed and hostile protobuf with a client error on every gRPC method', async () => {
    const faults: Outcome[] = [];
    let calls = 0;
    for (const service of SERVICES) {
      const client = rawClient(service, api.grpcAddress, api.clientOptions);
      try {
        for (const [name, method] of Object.entries(service) as [string, MethodDefinition<unknown, unknown>][]) {
          const cases = method.responseStream ? 12 : 40;
          for (let i = 0; i < cases; i++) {
            // The api tests' stand-in scheduler does not retry runs (test-scheduler.ts): RetryRun of a real
            // run is the scheduler's to test, so here it only gets names that fail before reaching it.
            const names = method.path.endsWith('/RetryRun') ? realNames.filter((n) => !n.includes('/runs/')) : realNames;
            const message = fuzzedMessage(method, names);
            const valid = method.requestSerialize(message);
            const malformed = i % 2 === 0;
            const payload = malformed ? malformedBytes(valid) : valid;
            const { code, details } = await callRaw(client, name, method, payload);
            calls += 1;
            if (SERVER_FAULTS.includes(code)) {
              faults.push({ input: `${method.path} ${malformed ? `bytes ${payload.toString('hex').slice(0, 80)}` : JSON.stringify(message).slice(0, 300)}`, code, details });
            }
          }
        }
      } finally {
        client.close();
      }
    }
    expect(calls).toBeGreaterThan(500);
    expect(faults).toEqual([]);
    await expectServing();
  }, 180_000);

  it('answers deeply nested params with a client error, on gRPC and REST', async () => {
    const client = rawClient(RunServiceService as unknown as ServiceDefinition, api.grpcAddress, api.clientOptions);
    try {
      const method = (RunServiceService as unknown as ServiceDefinition)['triggerRun'] as MethodDefinition<unknown, unknown>;
      for (const depth of [100, 5_000, 50_000]) {
        const { code, details } = await callRaw(client, 'triggerRun', method, deepParamsRequest('workflows/canary', depth));
        expect({ depth, code, details }).toEqual({ depth, code: status.INVALID_ARGUMENT, details: expect.any(String) });
      }
      // Bytes that are no protobuf at all: the caller's error, named as such (grpc-js alone would say INTERNAL).
      const truncated = await callRaw(client, 'triggerRun', method, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
      expect(truncated.code).toBe(status.INVALID_ARGUMENT);
      expect(truncated.details).toContain('/skein.v1.RunService/TriggerRun is not a valid protobuf message');
    } finally {
      client.close();
    }
    const rest = await api.fetch(`/v1/workflows/canary/runs`, {
      method: 'POST', body: `{"params": {"season": ${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}}`, signal: AbortSignal.timeout(10_000),
    }).catch((err: unknown) => err);
    expect(rest).toBeInstanceOf(Response);
    expect((rest as Response).status).toBe(400);
    await expectServing();
  });

  it('answers hostile REST requests with a 4xx, never a 5xx', async () => {
    const faults: { input: string; status: number; body: string }[] = [];
    const runId = realNames[1]!.split('/')[3]!;
    const segment = () => pick([
      '..', '%2e%2e', '..%2f..%2f', '%2e%2e%2f%2e%2e', '%00', '%ff%fe', '%', '%zz', encodeURIComponent("'; DROP TABLE runs; --"),
      'a'.repeat(5000), encodeURIComponent('😀'), '-', 'fz', runId, 'extract', encodeURIComponent('\u0000'),
    ]);
    const queryValue = () => pick(['abc', '-1', '1e99', '99999999999999999999', '', '%ff', 'RUN_STATE_BOGUS', 'failed', ...BAD_PAGE_TOKENS.slice(0, 6)]);
    const bodyField = () => pick<unknown>([123, 'x'.repeat(3000), [], {}, null, true, hostileValue(), { nested: deeplyNested(3000) }, -1, 'not-a-time', [1, [2]]]);
    for (const route of REST_ROUTES) {
      for (let i = 0; i < 25; i++) {
        // RetryRun of a real run reaches the stand-in scheduler, which does not retry (see the gRPC case).
        const path = route.path.replace(/\{\w+\}/g, () => {
          const value = segment();
          return route.operationId === 'RetryRun' && value === runId ? 'no-such-run' : value;
        });
        const query = ['pageSize', 'pageToken', 'state', 'attempt', 'afterSequence', 'createTimeAfter', 'updateMask', 'allowMissing', 'workflowId', 'follow']
          .filter(() => random() < 0.3).map((name) => `${name}=${encodeURIComponent(queryValue())}`);
        if (random() < 0.1) query.push('pageSize=1', 'pageSize=2');
        let body: string | Buffer | undefined;
        if (route.method === 'post' || route.method === 'patch') {
          const roll = random();
          if (roll < 0.15) body = '{"source": ';
          else if (roll < 0.25) body = Buffer.concat([Buffer.from('{"source": "'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]);
          else if (roll < 0.3) body = pick(['[]', '"x"', '12', 'null', 'true']);
          else {
            const fields = ['source', 'fileName', 'params', 'requestId', 'reason', 'task', 'startTime', 'endTime', 'rerunSucceeded', 'spec', 'labels', 'paused', 'name', 'workflow', 'namespace'];
            body = JSON.stringify(Object.fromEntries(fields.filter(() => random() < 0.4).map((field) => [field, bodyField()])));
          }
        }
        const url = `${api.baseUrl}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), 10_000);
        try {
          const res = await fetch(url, { method: route.method.toUpperCase(), body, signal: abort.signal, headers: { authorization: `Bearer ${api.adminToken}` } });
          const type = res.headers.get('content-type') ?? '';
          const text = type.includes('text/event-stream') ? '(stream)' : await res.text();
          if (res.status >= 500) faults.push({ input: `${route.method.toUpperCase()} ${url.slice(0, 300)} ${String(body).slice(0, 200)}`, status: res.status, body: text.slice(0, 300) });
          else if (res.status >= 400 && !isStatusJson(text)) faults.push({ input: `${route.method.toUpperCase()} ${url.slice(0, 300)} (not a Status body)`, status: res.status, body: text.slice(0, 300) });
        } finally {
          clearTimeout(timer);
          abort.abort();
        }
      }
    }
    expect(faults).toEqual([]);
    await expectServing();
  }, 180_000);
});
