import {
  Server, status as GrpcStatus, type MethodDefinition, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition,
  type UntypedServiceImplementation, type sendUnaryData,
} from '@grpc/grpc-js';
import { ApiError } from './errors';
import { toGrpcError } from './status';

/**
 * Requests that are not valid protobuf. grpc-js answers a request its deserializer throws on with
 * INTERNAL ("Error deserializing request"), which tells a caller the server broke. It is the
 * caller's bytes that are wrong, so here a failed decode becomes a marker the handler sees first, and
 * the call fails with INVALID_ARGUMENT (reason MALFORMED_REQUEST) naming the message it expected.
 */

const UNDECODABLE = Symbol('undecodable request');

interface Undecodable {
  readonly [UNDECODABLE]: string;
}

function isUndecodable(request: unknown): request is Undecodable {
  return typeof request === 'object' && request !== null && UNDECODABLE in request;
}

function malformedRequest(path: string, problem: string): ApiError {
  return new ApiError(GrpcStatus.INVALID_ARGUMENT, 'MALFORMED_REQUEST',
    `the request of ${path} is not a valid protobuf message: ${problem.slice(0, 200)}`, {
      metadata: { method: path },
      fieldViolations: [{ field: 'request', description: 'not a valid protobuf encoding of the request message' }],
    });
}

function isSingleRequest(method: MethodDefinition<unknown, unknown>): boolean {
  return !method.requestStream;
}

/** The service with each single-request method's deserializer returning a marker instead of throwing. */
function tolerantService(service: ServiceDefinition): ServiceDefinition {
  const tolerant: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service) as [string, MethodDefinition<unknown, unknown>][]) {
    tolerant[name] = !isSingleRequest(method) ? method : {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return { [UNDECODABLE]: err instanceof Error ? err.message : String(err) } satisfies Undecodable;
        }
      },
    };
  }
  return tolerant as ServiceDefinition;
}

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;
type ServerStreamHandler = (call: ServerWritableStream<unknown, unknown>) => void;

/** The implementation with each single-request handler answering a marker with INVALID_ARGUMENT. */
function guardedImplementation(service: ServiceDefinition, implementation: UntypedServiceImplementation): UntypedServiceImplementation {
  const guarded: UntypedServiceImplementation = { ...implementation };
  for (const [name, method] of Object.entries(service) as [string, MethodDefinition<unknown, unknown>][]) {
    const handler = implementation[name];
    if (!handler || !isSingleRequest(method)) continue;
    if (method.responseStream) {
      const stream = handler as unknown as ServerStreamHandler;
      guarded[name] = ((call: ServerWritableStream<unknown, unknown>) => {
        if (isUndecodable(call.request)) call.emit('error', toGrpcError(malformedRequest(method.path, call.request[UNDECODABLE])));
        else stream(call);
      }) as unknown as UntypedServiceImplementation[string];
    } else {
      const unary = handler as unknown as UnaryHandler;
      guarded[name] = ((call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        if (isUndecodable(call.request)) callback(toGrpcError(malformedRequest(method.path, call.request[UNDECODABLE])));
        else unary(call, callback);
      }) as unknown as UntypedServiceImplementation[string];
    }
  }
  return guarded;
}

/**
 * A grpc-js Server on which every service added (the API's, health, and any added later) answers
 * malformed protobuf requests with INVALID_ARGUMENT instead of INTERNAL.
 */
export class TolerantServer extends Server {
  override addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    super.addService(tolerantService(service), guardedImplementation(service, implementation));
  }
}
