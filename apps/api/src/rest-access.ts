/**
 * The REST side of access control: middleware in front of every route (and of the body parser, so
 * an unauthenticated request is refused before its body is read). The route table in
 * access-policy.ts says which method a request calls; mutating calls are written to the audit log
 * before their response is sent.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AUTHORIZATION_HEADER, auditResourceOf, codeName, type AccessControl } from './access-control';
import { routeRuleOf, type MethodRule } from './access-policy';
import { httpStatusOf, toApiError, toJsonStatus } from './status';

/** The resource a REST path names: `/v1/workflows/etl/runs/abc:cancel` → `workflows/etl/runs/abc`. */
function resourceOfPath(path: string): string {
  return path.replace(/^\/v1\//, '').replace(/:[A-Za-z]+$/, '');
}

/** The outcome of a response as a gRPC code name (error bodies are google.rpc.Status, with the code). */
function outcomeOf(res: Response, body: unknown): string {
  if (res.statusCode < 400) return 'OK';
  const code = typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? codeName(code) : `HTTP_${res.statusCode}`;
}

export function restAccessMiddleware(access: AccessControl, logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const verb = req.method === 'HEAD' ? 'GET' : req.method;
    const matched = routeRuleOf(verb, req.path);
    // A route missing from the table is for admins only (and audited unless it only reads).
    const method = matched?.method ?? `HTTP ${verb} ${req.path.slice(0, 200)}`;
    const rule: MethodRule = matched?.rule ?? { access: 'admin', mutating: verb !== 'GET' };
    if (rule.access === 'public') {
      next();
      return;
    }
    const refuse = (err: unknown) => {
      const apiError = toApiError(err, logger, method);
      res.status(httpStatusOf(apiError.code)).json(toJsonStatus(apiError));
    };
    access.authenticate(req.get(AUTHORIZATION_HEADER)).then((who) => {
      if (rule.mutating) {
        const send = res.json.bind(res);
        res.json = (body: unknown) => {
          const resource = auditResourceOf({ name: resourceOfPath(req.path) }, res.statusCode < 400 ? body : undefined);
          void access.audit({ principal: who, method, resource, outcome: outcomeOf(res, body), transport: 'http' }).then(() => send(body));
          return res;
        };
      }
      access.authorize(who, method, rule);
    }).then(() => next(), refuse);
  };
}
