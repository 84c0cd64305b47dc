import type { ApiContext } from './api-context';
import { createLogMethods, type LogMethods } from './log-methods';
import { createRunMethods, type RunMethods } from './run-methods';
import { createWorkflowMethods, type WorkflowMethods } from './workflow-methods';

/**
 * Every public API method as a plain async function from request message to response message. The
 * gRPC server and the REST router are thin adapters over these, so the two cannot drift apart.
 */
export type ApiMethods = WorkflowMethods & RunMethods & LogMethods;

export function createApiMethods(ctx: ApiContext): ApiMethods {
  return { ...createWorkflowMethods(ctx), ...createRunMethods(ctx), ...createLogMethods(ctx) };
}
