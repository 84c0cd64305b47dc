import { parseTraceparent } from '@skein/telemetry';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { WorkflowSpec } from '@skein/domain';
import { getRun, getWorkflowVersion, type RunRecord } from '@skein/store';
import { ANY_WORKFLOW, runName, type RunName } from './resource-names';
import { notFound } from './errors';
import type { LogReader, RunCommands } from './ports';

/** What every API method works with. */
export interface ApiContext {
  readonly pool: Pool;
  readonly runs: RunCommands;
  readonly logs: LogReader;
  readonly logger: Logger;
  /** The spec of a workflow version (immutable, so cached). */
  workflowVersionSpec(workflowId: string, version: number): Promise<WorkflowSpec>;
}

/** Who is calling, as far as the methods care. */
export interface CallContext {
  /**
   * Recorded as the run's trigger: `manual` when the caller says a person asked for it (the CLI and
   * the web UI send the `x-skein-trigger: manual` header or metadata), `api` otherwise.
   */
  readonly trigger: 'manual' | 'api';
  /** The caller's W3C trace context (`traceparent` header or metadata), when well-formed. */
  readonly traceparent?: string;
}

/** The header (HTTP) and metadata key (gRPC) that marks a call as made by a person. */
export const TRIGGER_HEADER = 'x-skein-trigger';

/** The header (HTTP) and metadata key (gRPC) of the W3C trace context. */
export const TRACEPARENT_HEADER = 'traceparent';

export function callContextOf(triggerHeader: unknown, traceparentHeader?: unknown): CallContext {
  const traceparent = typeof traceparentHeader === 'string' && parseTraceparent(traceparentHeader) ? traceparentHeader.trim() : undefined;
  return { trigger: triggerHeader === 'manual' ? 'manual' : 'api', ...(traceparent ? { traceparent } : {}) };
}

// Versions are immutable, so a cached spec is never stale; the bound only caps memory.
const VERSION_CACHE_SIZE = 256;

/** Builds the context, with its version cache. */
export function createApiContext(deps: { pool: Pool; runs: RunCommands; logs: LogReader; logger: Logger }): ApiContext {
  const versions = new Map<string, WorkflowSpec>();
  return {
    ...deps,
    async workflowVersionSpec(workflowId, version) {
      const key = `${workflowId}@${version}`;
      const cached = versions.get(key);
      if (cached) return cached;
      const record = await getWorkflowVersion(deps.pool, workflowId, version);
      if (!record) throw new Error(`run references missing workflow version ${key}`);
      if (versions.size >= VERSION_CACHE_SIZE) {
        const oldest = versions.keys().next();
        if (!oldest.done) versions.delete(oldest.value);
      }
      versions.set(key, record.spec);
      return record.spec;
    },
  };
}

/** The run a name refers to; NOT_FOUND when absent or when it belongs to another workflow than named. */
export async function resolveRun(ctx: ApiContext, name: RunName): Promise<RunRecord> {
  const run = await getRun(ctx.pool, name.runId);
  if (!run || (name.workflowId !== ANY_WORKFLOW && run.workflowId !== name.workflowId)) {
    throw notFound('run', runName(name.workflowId, name.runId));
  }
  return run;
}
