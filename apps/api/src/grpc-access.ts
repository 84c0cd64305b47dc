/**
 * The gRPC side of access control: one server interceptor that runs before every method. It
 * authenticates on the call's metadata (UNAUTHENTICATED before the request is even read), authorises
 * once the request message is in (so a refusal can name the resource in the audit log), and records
 * every mutating call's outcome before its status goes out, so a caller that got an answer finds it
 * in the audit log.
 */
import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { auditResourceOf, AUTHORIZATION_HEADER, codeName, type AccessControl, type Principal } from './access-control';
import { ruleOf } from './access-policy';
import { toApiError, toGrpcError } from './status';

export function grpcAccessInterceptor(access: AccessControl, logger: Logger): ServerInterceptor {
  return (descriptor, call) => {
    const method = descriptor.path.replace(/^\//, '');
    const rule = ruleOf(method);
    if (rule.access === 'public') return new ServerInterceptingCall(call);

    let principal: Principal | undefined;
    let request: unknown;
    let response: unknown;
    // Once refused, nothing more reaches the method: not the message, nor the half-close (grpc-js holds it
    // back while a message is unforwarded, but a method must not depend on that to stay unreached).
    let refused = false;
    const audit = async (code: number) => {
      if (!principal || !rule.mutating) return;
      await access.audit({ principal, method, resource: auditResourceOf(request, response), outcome: codeName(code), transport: 'grpc' });
    };
    const refuse = (err: unknown) => {
      refused = true;
      const grpcError = toGrpcError(toApiError(err, logger, method));
      void audit(grpcError.code ?? 2).then(() => call.sendStatus({ code: grpcError.code ?? 2, details: grpcError.message, metadata: grpcError.metadata }));
    };

    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            access.authenticate(metadata.get(AUTHORIZATION_HEADER)[0]).then((who) => {
              principal = who;
              nextMetadata(metadata);
            }, refuse);
          },
          onReceiveMessage(message, nextMessage) {
            request = message;
            if (!principal) return;
            try {
              access.authorize(principal, method, rule);
            } catch (err) {
              refuse(err);
              return;
            }
            nextMessage(message);
          },
          onReceiveHalfClose(nextHalfClose) {
            if (!refused) nextHalfClose();
          },
        });
      },
      sendMessage(message, next) {
        response = message;
        next(message);
      },
      sendStatus(status, next) {
        void audit(status.code).then(() => next(status));
      },
    });
  };
}
