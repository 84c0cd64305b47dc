import type { ApiContext } from './api-context';
import { createLogMethods, type LogMethods } from './log-methods';
import { createRetryMethods, type RetryMethods } from './retry-methods';
import { createRunMethods, type RunMethods } from './run-methods';
import { createWatchMethods, type WatchMethods } from './run-watch';
import { createRunWatchHub, type RunWatchHub } from './run-watch-hub';
import { createWorkflowAdminMethods, type WorkflowAdminMethods } from './workflow-admin-methods';
import { createWorkflowMethods, type WorkflowMethods } from './workflow-methods';
import { createTemplateMethods, type TemplateMethods } from './template-methods';
import { createPoolMethods, type PoolMethods } from './pool-methods';
import { createAuditMethods, type AuditMethods } from './audit-methods';
import { createTokenMethods, type TokenMethods } from './token-methods';
import { createWorkflowUpdateMethods, type WorkflowUpdateMethods } from './workflow-update-methods';

/**
 * Every public API method as a plain async function from request message to response message. The
 * gRPC server and the REST router are thin adapters over these, so the two cannot drift apart.
 */
export type ApiMethods = WorkflowMethods & WorkflowAdminMethods & RunMethods & RetryMethods & LogMethods & WatchMethods & TemplateMethods
  & PoolMethods & TokenMethods & AuditMethods & WorkflowUpdateMethods;

/** `watchHub`: what tells WatchRun streams about changes (its owner closes it); default: a new one. */
export function createApiMethods(ctx: ApiContext, options: { watchHub?: RunWatchHub } = {}): ApiMethods {
  const watchHub = options.watchHub ?? createRunWatchHub({ pool: ctx.pool, logger: ctx.logger });
  return {
    ...createWorkflowMethods(ctx), ...createWorkflowAdminMethods(ctx), ...createRunMethods(ctx), ...createRetryMethods(ctx), ...createLogMethods(ctx), ...createWatchMethods(ctx, watchHub),
    ...createTemplateMethods(ctx), ...createPoolMethods(ctx),
    ...createTokenMethods(ctx), ...createAuditMethods(ctx),
    ...createWorkflowUpdateMethods(ctx),
  };
}
