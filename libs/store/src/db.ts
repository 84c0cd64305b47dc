import { Pool, type PoolClient, type QueryResultRow } from 'pg';

/** Anything queries can run on: the pool (autocommit) or a client inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  /**
   * A named query is prepared once per connection: the hot path skips parsing and planning. Without a
   * name it is planned for the values given, every time.
   */
  query<R extends QueryResultRow = QueryResultRow>(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface CreatePoolOptions {
  /** @default 10 */
  max?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Told when an idle pooled connection fails (PostgreSQL restarted or shut down). The pool drops the
   * connection and makes a new one on demand; without a listener the error would crash the process.
   */
  onIdleError?: (err: Error) => void;
  /**
   * Statements on these connections are planned without nested loops (`enable_nestloop = off`), so a
   * statement's one generic plan (every pool keeps one per named statement: see {@link createPool})
   * serves a batch of any size: a generic plan estimates every array at 10 elements, and a nested loop
   * over a batch of hundreds is quadratic; hash joins are linear whatever the estimates. For statements
   * written for it: the scheduler's hot path (`readRunSnapshot`, `writeRunChangesIf`, every batch under
   * one name). @default false
   */
  plannedOnce?: boolean;
}

const plannedOncePools = new WeakSet<object>();

/** Whether `db` is a pool made with `plannedOnce`. */
export function isPlannedOnce(db: unknown): boolean {
  return typeof db === 'object' && db !== null && plannedOncePools.has(db);
}

/**
 * A pg pool with Skein's settings: UTC sessions, and a named (prepared) statement planned once per
 * connection (`plan_cache_mode = force_generic_plan`): Skein names only statements whose generic plan
 * is right for every value (key lookups, small batches); with PostgreSQL's default it re-planned them
 * for their values whenever a generic plan's estimate looked worse — a run's creation write, on every
 * call (0.56 ms of planning each). Unnamed statements are planned for their values as always.
 */
export function createPool(connectionString: string, options: CreatePoolOptions = {}): Pool {
  const pool = new Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'skein',
    options: `-c timezone=UTC -c plan_cache_mode=force_generic_plan${options.plannedOnce ? ' -c enable_nestloop=off' : ''}`,
  });
  if (options.plannedOnce) plannedOncePools.add(pool);
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}

/** Runs `fn` in a transaction on a pooled client: COMMIT on success, ROLLBACK on error. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
