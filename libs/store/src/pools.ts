/**
 * Stored pools (`kind: Pool`). A pool is not versioned: applying it again changes its slots at once
 * (tasks already holding slots keep them; waiting tasks are admitted against the new number).
 */
import type { Pool as PgPool } from 'pg';
import type { PoolSpec } from '@skein/domain';
import { withTransaction, type Queryable } from './db';

/** A pool with how its slots are used now. */
export interface PoolRecord {
  readonly name: string;
  readonly slots: number;
  readonly description: string;
  readonly labels: Record<string, string>;
  /** Slots held by queued or running attempts. */
  readonly usedSlots: number;
  /** Tasks waiting for a slot. */
  readonly waitingTasks: number;
  readonly createTime: Date;
  readonly updateTime: Date;
}

interface PoolRow {
  name: string; slots: number; description: string; labels: Record<string, string>; used_slots: string; waiting_tasks: string;
  create_time: Date; update_time: Date;
}

const columns = `p.name, p.slots, p.description, p.labels, p.create_time, p.update_time,
  coalesce((SELECT sum(l.pool_slots) FROM slot_leases l WHERE l.pool = p.name), 0) AS used_slots,
  (SELECT count(*) FROM slot_waits w WHERE w.pool = p.name) AS waiting_tasks`;

function toRecord(row: PoolRow): PoolRecord {
  return {
    name: row.name, slots: row.slots, description: row.description, labels: row.labels, usedSlots: Number(row.used_slots),
    waitingTasks: Number(row.waiting_tasks), createTime: row.create_time, updateTime: row.update_time,
  };
}

/** The spec of a stored pool, as a workflow's pool references are checked against it. */
export function poolSpecOf(record: PoolRecord): PoolSpec {
  return {
    apiVersion: 'skein.dev/v1', kind: 'Pool', metadata: { name: record.name, labels: record.labels },
    spec: { slots: record.slots, ...(record.description && { description: record.description }) },
  };
}

export async function getPool(db: Queryable, name: string): Promise<PoolRecord | undefined> {
  const { rows } = await db.query<PoolRow>(`SELECT ${columns} FROM pools p WHERE p.name = $1`, [name]);
  return rows[0] && toRecord(rows[0]);
}

/** Pools ordered by name, after `afterName` (exclusive). */
export async function listPools(db: Queryable, page: { limit: number; afterName?: string }): Promise<PoolRecord[]> {
  const { rows } = await db.query<PoolRow>(
    `SELECT ${columns} FROM pools p WHERE ($1::text IS NULL OR p.name > $1) ORDER BY p.name LIMIT $2`, [page.afterName ?? null, page.limit]);
  return rows.map(toRecord);
}



/** Creates the pool or sets its slots, description and labels. */
export async function applyPool(pool: PgPool, spec: PoolSpec): Promise<{ pool: PoolRecord; created: boolean }> {
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ created: boolean }>(
      `INSERT INTO pools (name, slots, description, labels) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET slots = EXCLUDED.slots, description = EXCLUDED.description, labels = EXCLUDED.labels,
              update_time = CASE WHEN (pools.slots, pools.description, pools.labels) IS DISTINCT FROM (EXCLUDED.slots, EXCLUDED.description, EXCLUDED.labels)
                                 THEN now() ELSE pools.update_time END
       RETURNING (xmax = 0) AS created`,
      [spec.metadata.name, spec.spec.slots, spec.spec.description ?? '', spec.metadata.labels]);
    const record = await getPool(tx, spec.metadata.name);
    if (!record) throw new Error(`pool ${spec.metadata.name} vanished inside its own transaction`);
    return { pool: record, created: rows[0]?.created === true };
  });
}

/** Why a pool cannot be deleted now. */
export interface PoolInUse {
  /** Workflows whose current version names the pool. */
  readonly workflows: string[];
  readonly usedSlots: number;
  readonly waitingTasks: number;
}

/**
 * Deletes a pool nothing uses: no workflow's current version names it and no task holds or waits for
 * one of its slots. Returns `deleted: false` when there is no such pool, `inUse` when it is used.
 */
export async function deletePool(pool: PgPool, name: string): Promise<{ deleted: boolean; inUse?: PoolInUse }> {
  return withTransaction(pool, async (tx) => {
    const locked = await tx.query(`SELECT 1 FROM pools WHERE name = $1 FOR UPDATE`, [name]);
    if (locked.rowCount !== 1) return { deleted: false };
    const { rows } = await tx.query<{ id: string }>(
      `SELECT w.id FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
        WHERE v.spec->'spec'->'tasks' @> jsonb_build_array(jsonb_build_object('pool', $1::text))
        ORDER BY w.id LIMIT 20`, [name]);
    const record = await getPool(tx, name);
    const usedSlots = record?.usedSlots ?? 0;
    const waitingTasks = record?.waitingTasks ?? 0;
    if (rows.length > 0 || usedSlots > 0 || waitingTasks > 0) {
      return { deleted: false, inUse: { workflows: rows.map((r) => r.id), usedSlots, waitingTasks } };
    }
    await tx.query(`DELETE FROM pools WHERE name = $1`, [name]);
    return { deleted: true };
  });
}
