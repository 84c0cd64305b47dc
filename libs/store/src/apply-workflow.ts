import type { Pool } from 'pg';
import type { WorkflowSpec } from '@skein/domain';
import { withTransaction } from './db';
import { AlreadyExistsError, ConcurrentChangeError, NotFoundError } from './errors';
import { getWorkflow, getWorkflowVersion, insertWorkflowIfAbsent, insertWorkflowVersion, lockWorkflow, setWorkflowCurrentVersion,
  setWorkflowPaused, type WorkflowRecord, type WorkflowVersionRecord } from './workflows';

export interface ApplyWorkflowResult {
  readonly workflow: WorkflowRecord;
  readonly version: WorkflowVersionRecord;
  /** False when the spec's digest equals the current version's: nothing changed. */
  readonly created: boolean;
}

export interface ApplyWorkflowOptions {
  /**
   * `absent`: fail with AlreadyExistsError when the workflow has a version (CreateWorkflow);
   * `present`: fail with NotFoundError when it has none (UpdateWorkflow). Checked under the row lock,
   * so a concurrent create cannot slip between the check and the write.
   * @default "any" (ApplyWorkflow: create or update)
   */
  readonly expect?: 'any' | 'absent' | 'present';
  /**
   * The digest of the current version the caller read and built `spec` from: when another write
   * changed it since, fail with ConcurrentChangeError instead of overwriting that change.
   */
  readonly ifCurrentDigest?: string;
  /** Sets the paused flag in the same transaction; unchanged when undefined. */
  readonly paused?: boolean;
}

/**
 * Stores a validated workflow spec as the workflow's new current version, unless it is identical to
 * the current one. Versions are immutable, so runs already started keep the spec they began with.
 */
export async function applyWorkflow(pool: Pool, spec: WorkflowSpec, digest: string, options: ApplyWorkflowOptions = {}): Promise<ApplyWorkflowResult> {
  const id = spec.metadata.name;
  return withTransaction(pool, async (tx) => {
    await insertWorkflowIfAbsent(tx, id);
    const current = await lockWorkflow(tx, id);
    // A workflow row without a version is one this transaction just inserted (rolled back on throw).
    if (options.expect === 'absent' && current.currentVersion > 0) throw new AlreadyExistsError('workflow', id);
    if (options.expect === 'present' && current.currentVersion === 0) throw new NotFoundError('workflow', id);
    if (options.ifCurrentDigest !== undefined && current.digest !== options.ifCurrentDigest) throw new ConcurrentChangeError('workflow', id);
    let created = false;
    let version = current.currentVersion;
    if (current.digest !== digest) {
      version = current.currentVersion + 1;
      await insertWorkflowVersion(tx, { workflowId: id, version, spec, digest });
      await setWorkflowCurrentVersion(tx, { id, version, labels: { ...spec.metadata.labels }, schedule: spec.spec.schedule ?? null });
      created = true;
    }
    if (options.paused !== undefined) await setWorkflowPaused(tx, id, options.paused);
    const workflow = await getWorkflow(tx, id);
    const versionRecord = await getWorkflowVersion(tx, id, version);
    if (!workflow || !versionRecord) throw new Error(`workflow ${id} vanished inside its own transaction`);
    return { workflow, version: versionRecord, created };
  });
}
