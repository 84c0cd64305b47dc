import { createHash, timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';

/**
 * Bearer tokens on gRPC: a client interceptor that sends `authorization: Bearer <token>` on every
 * call (call credentials would need a TLS channel; this works on plain ones too), and the server
 * interceptor of Skein's internal services, which admits only calls bearing the shared internal token.
 */

/** A client interceptor adding `authorization: Bearer <token>` to every call's metadata. */
export function bearerTokenInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('authorization', `Bearer ${token}`);
      next(metadata, listener);
    },
  });
}

/** A gRPC server whose every call must bear the internal token (see {@link internalTokenInterceptor}). */
export function createInternalGrpcServer(token: string): grpc.Server {
  return new grpc.Server({ interceptors: [internalTokenInterceptor(token)] });
}

/** Compares in constant time (over digests, so lengths do not leak either). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * The server interceptor of an internal gRPC service: every call must bear `token`
 * (`SKEIN_INTERNAL_TOKEN`), else it ends UNAUTHENTICATED before its handler runs.
 */
export function internalTokenInterceptor(token: string): grpc.ServerInterceptor {
  return (_descriptor, call) => new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMetadata(metadata, nextMetadata) {
          const header = metadata.get('authorization')[0];
          const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
          if (match?.[1] !== undefined && sameSecret(match[1], token)) nextMetadata(metadata);
          else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'internal gRPC call without the internal token (SKEIN_INTERNAL_TOKEN)' });
        },
      });
    },
  });
}
