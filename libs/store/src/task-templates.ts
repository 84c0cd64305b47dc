/**
 * Stored task templates (`kind: TaskTemplate`), versioned like workflows: applying an identical spec
 * changes nothing, a different one becomes the new current version. Workflows store their tasks
 * already resolved, so a template's later versions never change a stored workflow version.
 */
import type { Pool } from 'pg';
import type { TaskTemplateSpec } from '@skein/domain';
import { withTransaction, type Queryable } from './db';

/** A task template with the spec of its current version. */
export interface TaskTemplateRecord {
  readonly name: string;
  readonly currentVersion: number;
  readonly labels: Record<string, string>;
  readonly spec: TaskTemplateSpec;
  readonly digest: string;
  readonly createTime: Date;
  readonly updateTime: Date;
}

/** What {@link applyTaskTemplate} did. */
export interface ApplyTaskTemplateResult {
  readonly template: TaskTemplateRecord;
  /** False when the spec's digest equals the current version's: nothing changed. */
  readonly created: boolean;
}

interface TemplateRow {
  name: string; current_version: number; labels: Record<string, string>; spec: TaskTemplateSpec; digest: string; create_time: Date; update_time: Date;
}

const columns = `t.name, t.current_version, t.labels, v.spec, v.digest, t.create_time, t.update_time`;
const fromJoin = `FROM task_templates t JOIN task_template_versions v ON v.name = t.name AND v.version = t.current_version`;

function toRecord(row: TemplateRow): TaskTemplateRecord {
  return {
    name: row.name, currentVersion: row.current_version, labels: row.labels, spec: row.spec, digest: row.digest,
    createTime: row.create_time, updateTime: row.update_time,
  };
}

/** The current version of a template; undefined when there is none of that name. */
export async function getTaskTemplate(db: Queryable, name: string): Promise<TaskTemplateRecord | undefined> {
  const { rows } = await db.query<TemplateRow>(`SELECT ${columns} ${fromJoin} WHERE t.name = $1`, [name]);
  return rows[0] && toRecord(rows[0]);
}

/** Templates ordered by name, after `afterName` (exclusive). */
export async function listTaskTemplates(db: Queryable, page: { limit: number; afterName?: string }): Promise<TaskTemplateRecord[]> {
  const { rows } = await db.query<TemplateRow>(
    `SELECT ${columns} ${fromJoin} WHERE ($1::text IS NULL OR t.name > $1) ORDER BY t.name LIMIT $2`, [page.afterName ?? null, page.limit]);
  return rows.map(toRecord);
}

/** The current versions of the named templates (the ones that exist), by name. */
export async function getTaskTemplates(db: Queryable, names: readonly string[]): Promise<Map<string, TaskTemplateRecord>> {
  if (names.length === 0) return new Map();
  const { rows } = await db.query<TemplateRow>(`SELECT ${columns} ${fromJoin} WHERE t.name = ANY($1::text[])`, [[...names]]);
  return new Map(rows.map((row) => [row.name, toRecord(row)]));
}

/** Deletes a template and its versions; false when there was none. */
export async function deleteTaskTemplate(db: Queryable, name: string): Promise<boolean> {
  const result = await db.query(`DELETE FROM task_templates WHERE name = $1`, [name]);
  return (result.rowCount ?? 0) > 0;
}

/** Stores a validated template as its new current version, unless identical to the current one. */
export async function applyTaskTemplate(pool: Pool, spec: TaskTemplateSpec, digest: string): Promise<ApplyTaskTemplateResult> {
  const name = spec.metadata.name;
  return withTransaction(pool, async (tx) => {
    await tx.query(`INSERT INTO task_templates (name, current_version, labels) VALUES ($1, 0, $2) ON CONFLICT (name) DO NOTHING`, [name, spec.metadata.labels]);
    const { rows } = await tx.query<{ current_version: number; digest: string | null }>(
      `SELECT t.current_version, v.digest FROM task_templates t
         LEFT JOIN task_template_versions v ON v.name = t.name AND v.version = t.current_version
        WHERE t.name = $1 FOR UPDATE OF t`, [name]);
    const current = rows[0];
    if (!current) throw new Error(`task template ${name} vanished inside its own transaction`);
    let created = false;
    if (current.digest !== digest) {
      const version = current.current_version + 1;
      await tx.query(`INSERT INTO task_template_versions (name, version, spec, digest) VALUES ($1, $2, $3, $4)`, [name, version, spec, digest]);
      await tx.query(`UPDATE task_templates SET current_version = $2, labels = $3, update_time = now() WHERE name = $1`, [name, version, spec.metadata.labels]);
      created = true;
    }
    const template = await getTaskTemplate(tx, name);
    if (!template) throw new Error(`task template ${name} vanished inside its own transaction`);
    return { template, created };
  });
}
