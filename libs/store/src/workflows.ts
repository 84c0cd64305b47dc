import type { WorkflowFilterTerm, WorkflowSpec } from '@skein/domain';
import type { Queryable } from './db';

/** A workflow with the spec of its current version. */
export interface WorkflowRecord {
  readonly id: string;
  readonly currentVersion: number;
  readonly labels: Record<string, string>;
  readonly schedule: string | null;
  readonly paused: boolean;
  readonly spec: WorkflowSpec;
  readonly digest: string;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export interface WorkflowVersionRecord {
  readonly workflowId: string;
  readonly version: number;
  readonly spec: WorkflowSpec;
  readonly digest: string;
  readonly createTime: Date;
}

interface WorkflowRow {
  id: string; current_version: number; labels: Record<string, string>; schedule: string | null; paused: boolean;
  spec: WorkflowSpec; digest: string; create_time: Date; update_time: Date;
}

const workflowColumns = `w.id, w.current_version, w.labels, w.schedule, w.paused, v.spec, v.digest, w.create_time, w.update_time`;

function toWorkflow(row: WorkflowRow): WorkflowRecord {
  return {
    id: row.id, currentVersion: row.current_version, labels: row.labels, schedule: row.schedule, paused: row.paused,
    spec: row.spec, digest: row.digest, createTime: row.create_time, updateTime: row.update_time,
  };
}

export async function getWorkflow(db: Queryable, id: string): Promise<WorkflowRecord | undefined> {
  // Named: planned once per connection (every run's creation asks, through the api and the scheduler).
  const { rows } = await db.query<WorkflowRow>({
    name: 'skein-get-workflow',
    text: `SELECT ${workflowColumns} FROM workflows w
       JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
      WHERE w.id = $1`,
    values: [id],
  });
  return rows[0] && toWorkflow(rows[0]);
}

/** Workflows ordered by id, after `afterId` (exclusive), that match every term of `filter` (see parseWorkflowFilter). */
export async function listWorkflows(db: Queryable, page: { limit: number; afterId?: string; filter?: readonly WorkflowFilterTerm[] }): Promise<WorkflowRecord[]> {
  const values: unknown[] = [page.afterId ?? null, page.limit];
  const conditions = (page.filter ?? []).map((term) => {
    // Every value is a parameter: the filter's text never reaches the SQL.
    const param = (value: unknown) => `$${values.push(value)}`;
    switch (term.kind) {
      case 'label': return term.op === '=' ? `w.labels ->> ${param(term.key)} = ${param(term.value)}` : `w.labels ->> ${param(term.key)} IS DISTINCT FROM ${param(term.value)}`;
      case 'hasLabel': return `w.labels ? ${param(term.key)}`;
      case 'paused': return `w.paused = ${param(term.value)}`;
      case 'scheduled': return term.value ? `w.schedule IS NOT NULL` : `w.schedule IS NULL`;
      case 'id': return term.op === '=' ? `w.id = ${param(term.value)}` : `w.id <> ${param(term.value)}`;
    }
  });
  const { rows } = await db.query<WorkflowRow>(
    `SELECT ${workflowColumns} FROM workflows w
       JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
      WHERE ($1::text IS NULL OR w.id > $1)${conditions.map((c) => ` AND ${c}`).join('')}
      ORDER BY w.id LIMIT $2`, values);
  return rows.map(toWorkflow);
}

export async function getWorkflowVersion(db: Queryable, workflowId: string, version: number): Promise<WorkflowVersionRecord | undefined> {
  const { rows } = await db.query<{ workflow_id: string; version: number; spec: WorkflowSpec; digest: string; create_time: Date }>(
    `SELECT workflow_id, version, spec, digest, create_time FROM workflow_versions WHERE workflow_id = $1 AND version = $2`,
    [workflowId, version]);
  const row = rows[0];
  return row && { workflowId: row.workflow_id, version: row.version, spec: row.spec, digest: row.digest, createTime: row.create_time };
}

/** Creates the workflow row (version 0) unless it exists. */
export async function insertWorkflowIfAbsent(db: Queryable, id: string): Promise<void> {
  await db.query(`INSERT INTO workflows (id, current_version) VALUES ($1, 0) ON CONFLICT (id) DO NOTHING`, [id]);
}

/** Locks the workflow row for the rest of the transaction; returns its current version and digest. */
export async function lockWorkflow(db: Queryable, id: string): Promise<{ currentVersion: number; digest: string | null }> {
  const { rows } = await db.query<{ current_version: number; digest: string | null }>(
    `SELECT w.current_version, v.digest FROM workflows w
       LEFT JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
      WHERE w.id = $1 FOR UPDATE OF w`, [id]);
  const row = rows[0];
  if (!row) throw new Error(`workflow ${id} vanished inside its own transaction`);
  return { currentVersion: row.current_version, digest: row.digest };
}

export async function insertWorkflowVersion(db: Queryable, v: { workflowId: string; version: number; spec: WorkflowSpec; digest: string }): Promise<void> {
  await db.query(`INSERT INTO workflow_versions (workflow_id, version, spec, digest) VALUES ($1, $2, $3, $4)`,
    [v.workflowId, v.version, JSON.stringify(v.spec), v.digest]);
}

export async function setWorkflowCurrentVersion(db: Queryable, w: { id: string; version: number; labels: Record<string, string>; schedule: string | null }): Promise<void> {
  await db.query(`UPDATE workflows SET current_version = $2, labels = $3, schedule = $4, update_time = now() WHERE id = $1`,
    [w.id, w.version, JSON.stringify(w.labels), w.schedule]);
}

/** Workflows with a schedule that are not paused (with their current spec). */
export async function listScheduledWorkflows(db: Queryable): Promise<WorkflowRecord[]> {
  const { rows } = await db.query<WorkflowRow>(
    `SELECT ${workflowColumns} FROM workflows w
       JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
      WHERE w.schedule IS NOT NULL AND NOT w.paused
      ORDER BY w.id`);
  return rows.map(toWorkflow);
}

/** Pauses or unpauses a workflow's schedule; false when the workflow does not exist. */
export async function setWorkflowPaused(db: Queryable, id: string, paused: boolean): Promise<boolean> {
  const result = await db.query(`UPDATE workflows SET paused = $2, update_time = now() WHERE id = $1`, [id, paused]);
  return result.rowCount === 1;
}

/** A workflow's versions, newest first, those older than `beforeVersion` when given. */
export async function listWorkflowVersionsPage(db: Queryable, workflowId: string, limit: number, beforeVersion?: number): Promise<WorkflowVersionRecord[]> {
  const { rows } = await db.query<WorkflowVersionRecord>(
    `SELECT workflow_id AS "workflowId", version, spec, digest, create_time AS "createTime" FROM workflow_versions
      WHERE workflow_id = $1 AND ($2::int IS NULL OR version < $2)
      ORDER BY version DESC LIMIT $3`,
    [workflowId, beforeVersion ?? null, limit]);
  return rows;
}

/**
 * Deletes the workflow's runs (their task runs, attempts and idempotency keys cascade), then the
 * workflow (its versions cascade). Run it in a transaction holding the workflow's row lock.
 */
export async function deleteWorkflowAndRuns(db: Queryable, workflowId: string): Promise<void> {
  await db.query(`DELETE FROM runs WHERE workflow_id = $1`, [workflowId]);
  await db.query(`DELETE FROM workflows WHERE id = $1`, [workflowId]);
}

/** Locks the workflow's row (FOR UPDATE); false when it does not exist. */
export async function lockWorkflowRow(db: Queryable, workflowId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM workflows WHERE id = $1 FOR UPDATE`, [workflowId]);
  return rows.length > 0;
}
