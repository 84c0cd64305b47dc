import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { REST_ROUTES, type RestRouteDoc } from './openapi-routes';
import { findProtoDir } from './reflection';

/**
 * The OpenAPI 3.1 document of the REST API (`GET /v1/openapi.json`). Paths come from the route table
 * (openapi-routes.ts); schemas are derived from the .proto descriptors of skein.v1, in the proto3 JSON
 * mapping the REST API speaks (lowerCamelCase fields, enums by name, Timestamps as RFC 3339 strings),
 * so a field added to a message is in the document without anyone writing it twice.
 */

type Schema = Record<string, unknown>;

interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

interface MessageDescriptor {
  readonly name: string;
  readonly field: readonly FieldDescriptor[];
  readonly nestedType: readonly MessageDescriptor[];
  readonly options?: { readonly mapEntry?: boolean } | null;
}

interface EnumDescriptor {
  readonly value: readonly { readonly name: string }[];
}

const SCHEMA_REF = '#/components/schemas/';
const STATUS = 'google.rpc.Status';

/** proto3 JSON of the well-known types (https://protobuf.dev/programming-guides/json/). */
const WELL_KNOWN: Readonly<Record<string, Schema>> = {
  'google.protobuf.Timestamp': { type: 'string', format: 'date-time', description: 'RFC 3339, e.g. 2026-01-01T00:00:00Z' },
  'google.protobuf.Duration': { type: 'string', description: 'seconds with an `s` suffix, e.g. "1.5s"' },
  'google.protobuf.Struct': { type: 'object', additionalProperties: true },
  'google.protobuf.Value': { description: 'any JSON value' },
  'google.protobuf.ListValue': { type: 'array', items: {} },
  'google.protobuf.FieldMask': { type: 'string', description: 'comma-separated field paths, e.g. "labels,paused"' },
  'google.protobuf.Empty': { type: 'object' },
};

const INT32: Schema = { type: 'integer', format: 'int32' };
// ts-proto is generated with forceLong=number, so 64-bit integers are written as JSON numbers.
const INT64: Schema = { type: 'integer', format: 'int64' };
const SCALARS: Readonly<Record<string, Schema>> = {
  TYPE_STRING: { type: 'string' }, TYPE_BOOL: { type: 'boolean' },
  TYPE_INT32: INT32, TYPE_SINT32: INT32, TYPE_SFIXED32: INT32,
  TYPE_UINT32: { ...INT32, minimum: 0 }, TYPE_FIXED32: { ...INT32, minimum: 0 },
  TYPE_INT64: INT64, TYPE_SINT64: INT64, TYPE_SFIXED64: INT64,
  TYPE_UINT64: { ...INT64, minimum: 0 }, TYPE_FIXED64: { ...INT64, minimum: 0 },
  TYPE_DOUBLE: { type: 'number', format: 'double' }, TYPE_FLOAT: { type: 'number', format: 'float' },
  TYPE_BYTES: { type: 'string', contentEncoding: 'base64' },
};

/** The rich error model every error response carries (https://google.aip.dev/193). */
const ERROR_SCHEMAS: Readonly<Record<string, Schema>> = {
  [STATUS]: {
    type: 'object', required: ['code', 'message', 'details'],
    properties: {
      code: { type: 'integer', description: 'the google.rpc.Code (= the gRPC status code), e.g. 3 INVALID_ARGUMENT, 5 NOT_FOUND' },
      message: { type: 'string', description: 'for people; branch on ErrorInfo.reason' },
      details: { type: 'array', description: 'exactly one ErrorInfo, plus a BadRequest for validation errors', items: { oneOf: [{ $ref: `${SCHEMA_REF}google.rpc.ErrorInfo` }, { $ref: `${SCHEMA_REF}google.rpc.BadRequest` }] } },
    },
  },
  'google.rpc.ErrorInfo': {
    type: 'object', required: ['@type', 'reason', 'domain'],
    properties: {
      '@type': { const: 'type.googleapis.com/google.rpc.ErrorInfo' },
      reason: { type: 'string', description: 'UPPER_SNAKE, stable, e.g. WORKFLOW_NOT_FOUND' },
      domain: { const: 'skein.dev' },
      metadata: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
  'google.rpc.BadRequest': {
    type: 'object', required: ['@type', 'fieldViolations'],
    properties: {
      '@type': { const: 'type.googleapis.com/google.rpc.BadRequest' },
      fieldViolations: { type: 'array', items: { type: 'object', required: ['field', 'description'], properties: { field: { type: 'string' }, description: { type: 'string' } } } },
    },
  },
};

/** proto3 JSON's field name: lowerCamelCase of the proto name. */
export function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Builds component schemas for messages on demand, from proto-loader's descriptors. */
class SchemaBuilder {
  readonly schemas: Record<string, Schema> = { ...ERROR_SCHEMAS };

  constructor(private readonly definitions: protoLoader.PackageDefinition) {}

  private descriptor(fullName: string): MessageDescriptor {
    const definition = this.definitions[fullName] as { type?: unknown } | undefined;
    if (!definition?.type) throw new Error(`no message ${fullName} in proto/`);
    return definition.type as MessageDescriptor;
  }

  /** A `$ref` to the schema of a message or enum, building it the first time. */
  ref(fullName: string): Schema {
    const known = WELL_KNOWN[fullName];
    if (known) return known;
    if (!(fullName in this.schemas)) {
      this.schemas[fullName] = {}; // placed first, so a recursive message refers to itself
      const definition = this.definitions[fullName] as { format?: string; type?: unknown } | undefined;
      if (definition?.format?.includes('EnumDescriptorProto')) {
        this.schemas[fullName] = { type: 'string', enum: (definition.type as EnumDescriptor).value.map((v) => v.name) };
      } else {
        this.schemas[fullName] = this.object(fullName);
      }
    }
    return { $ref: `${SCHEMA_REF}${fullName}` };
  }

  /** The schema of a message's fields, less those named in `omit` (proto names). */
  object(fullName: string, omit: readonly string[] = []): Schema {
    const message = this.descriptor(fullName);
    const properties: Record<string, Schema> = {};
    for (const field of message.field) {
      if (!omit.includes(field.name)) properties[jsonName(field.name)] = this.field(field, fullName, message);
    }
    return { type: 'object', properties, 'x-proto-message': fullName };
  }

  field(field: FieldDescriptor, scope: string, message: MessageDescriptor): Schema {
    const entry = message.nestedType.find((t) => t.name === field.typeName && t.options?.mapEntry);
    if (entry) {
      const value = entry.field.find((f) => f.name === 'value');
      if (!value) throw new Error(`map entry ${scope}.${entry.name} has no value`);
      return { type: 'object', additionalProperties: this.field(value, scope, entry) };
    }
    const single = this.single(field, scope);
    return field.label === 'LABEL_REPEATED' ? { type: 'array', items: single } : single;
  }

  private single(field: FieldDescriptor, scope: string): Schema {
    const scalar = SCALARS[field.type];
    if (scalar) return scalar;
    const packageName = scope.split('.').slice(0, -1).join('.');
    // proto-loader leaves type names relative to where they are used: try the nested, package and global scopes.
    const fullName = [`${scope}.${field.typeName}`, `${packageName}.${field.typeName}`, field.typeName]
      .find((candidate) => candidate in this.definitions);
    if (!fullName) throw new Error(`cannot resolve type ${field.typeName} of ${scope}.${field.name}`);
    return this.ref(fullName);
  }

  /** The schema of one request field, for a query parameter. */
  requestField(request: string, protoName: string): Schema {
    const message = this.descriptor(request);
    const field = message.field.find((f) => f.name === protoName);
    if (!field) throw new Error(`${request} has no field ${protoName}`);
    return this.field(field, request, message);
  }
}

const PATH_PARAMETER_DESCRIPTIONS: Readonly<Record<string, string>> = {
  workflow: 'the workflow id (`-` for any workflow where the method allows it)',
  run: 'the run id',
  task: 'the task name',
  template: 'the template name',
};

function operation(route: RestRouteDoc, schemas: SchemaBuilder): Schema {
  const parameters: Schema[] = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => ({
    name, in: 'path', required: true, description: PATH_PARAMETER_DESCRIPTIONS[name] ?? name, schema: { type: 'string' },
  }));
  for (const field of route.query ?? []) {
    if (!route.request) throw new Error(`${route.operationId} has query fields but no request message`);
    parameters.push({
      name: jsonName(field), in: 'query', required: false,
      description: `\`${field}\` of ${route.request}${jsonName(field) === field ? '' : ` (also accepted as \`${field}\`)`}`,
      schema: schemas.requestField(route.request, field),
    });
  }
  for (const extra of route.extraQuery ?? []) parameters.push({ name: extra.name, in: 'query', required: false, description: extra.description, schema: extra.schema });

  const result: Schema = { operationId: route.operationId, summary: route.summary };
  if (parameters.length > 0) result['parameters'] = parameters;
  if (route.bodyMessage) {
    result['requestBody'] = { required: false, content: { 'application/json': { schema: schemas.ref(route.bodyMessage) } } };
  } else if (route.body && route.request) {
    const schema = schemas.object(route.request, [...(route.fromPath ?? []), ...(route.query ?? [])]);
    result['requestBody'] = {
      required: false, description: 'proto3 JSON; fields may also be given by their proto names (`file_name`)',
      content: { 'application/json': { schema } },
    };
  }
  const response = route.response;
  let ok: Schema;
  if ('message' in response) ok = { description: 'OK', content: { 'application/json': { schema: schemas.ref(response.message) } } };
  else if ('sse' in response) ok = { description: `Server-Sent Events: ${response.events}`, content: { 'text/event-stream': { schema: { type: 'string', 'x-sse-data': schemas.ref(response.sse) } } } };
  else ok = { description: 'OK', content: { 'application/json': { schema: response.schema } } };
  result['responses'] = {
    200: ok,
    default: { description: 'An error: a google.rpc.Status with the HTTP status of its gRPC code (INVALID_ARGUMENT 400, NOT_FOUND 404, ...; a body over the limit 413)', content: { 'application/json': { schema: { $ref: `${SCHEMA_REF}${STATUS}` } } } },
  };
  return result;
}

/** Loads the skein.v1 descriptors from a proto/ directory. */
export function loadPublicProtos(protoDir: string): protoLoader.PackageDefinition {
  const files = readdirSync(path.join(protoDir, 'skein', 'v1')).filter((f) => f.endsWith('.proto')).sort().map((f) => `skein/v1/${f}`);
  return protoLoader.loadSync(files, { includeDirs: [protoDir], keepCase: true });
}

/** The OpenAPI 3.1 document of the REST routes. */
export function buildOpenApiDocument(definitions: protoLoader.PackageDefinition, routes: readonly RestRouteDoc[] = REST_ROUTES): Schema {
  const schemas = new SchemaBuilder(definitions);
  const paths: Record<string, Record<string, Schema>> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`${route.method} ${route.path} is in the route table twice`);
    item[route.method] = operation(route, schemas);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Skein API', version: 'v1',
      description: 'The REST form of the skein.v1 gRPC API (proto/skein/v1): the same methods, resources and errors, in proto3 JSON. See docs/api.md.',
    },
    paths,
    components: { schemas: schemas.schemas },
  };
}

let cached: Schema | undefined;

/** The document, built once per process from the repository's proto/ directory; undefined without one. */
export function openApiDocument(): Schema | undefined {
  if (cached) return cached;
  const protoDir = findProtoDir();
  if (!protoDir) return undefined;
  cached = buildOpenApiDocument(loadPublicProtos(protoDir));
  return cached;
}
