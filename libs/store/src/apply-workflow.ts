import type { Pool } from 'pg';
import type { WorkflowSpec } from '@skein/domain';
import { withTransaction } from './db';
import { getWorkflow, getWorkflowVersion, insertWorkflowIfAbsent, insertWorkflowVersion, lockWorkflow, setWorkflowCurrentVersion,
  type WorkflowRecord, type WorkflowVersionRecord } from './workflows';

export interface ApplyWorkflowResult {
  readonly workflow: WorkflowRecord;
  readonly version: WorkflowVersionRecord;
  /** False when the spec's digest equals the current version's: nothing changed. */
  readonly created: boolean;
}

/**
 * Stores a validated workflow spec as the workflow's new current version, unless it is identical to
 * the current one. Versions are immutable, so runs already started keep the spec they began with.
 */
export async function applyWorkflow(pool: Pool, spec: WorkflowSpec, digest: string): Promise<ApplyWorkflowResult> {
  const id = spec.metadata.name;
  return withTransaction(pool, async (tx) => {
    await insertWorkflowIfAbsent(tx, id);
    const current = await lockWorkflow(tx, id);
    let created = false;
    let version = current.currentVersion;
    if (current.digest !== digest) {
      version = current.currentVersion + 1;
      await insertWorkflowVersion(tx, { workflowId: id, version, spec, digest });
      await setWorkflowCurrentVersion(tx, { id, version, labels: { ...spec.metadata.labels }, schedule: spec.spec.schedule ?? null });
      created = true;
    }
    const workflow = await getWorkflow(tx, id);
    const versionRecord = await getWorkflowVersion(tx, id, version);
    if (!workflow || !versionRecord) throw new Error(`workflow ${id} vanished inside its own transaction`);
    return { workflow, version: versionRecord, created };
  });
}
