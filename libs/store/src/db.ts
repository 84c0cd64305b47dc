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
   * Statements on these connections are planned once, whatever their values and the statistics: each
   * prepared statement keeps one generic plan (`plan_cache_mode = force_generic_plan`; PostgreSQL
   * otherwise re-plans for the values whenever the generic plan's estimate looks worse — after a large
   * run, on every execution, 0.7 ms each), made without nested loops (`enable_nestloop = off`: a
   * generic plan estimates every array at 10 elements, and a nested loop over a batch of hundreds is
   * quadratic; hash joins are linear whatever the estimates). For statements written for it: the
   * scheduler's hot path (`readRunSnapshot`, `writeRunChangesIf`). @default false
   */
  plannedOnce?: boolean;
}

const plannedOncePools = new WeakSet<object>();

/** Whether `db` is a pool made with `plannedOnce`. */
export function isPlannedOnce(db: unknown): boolean {
  return typeof db === 'object' && db !== null && plannedOncePools.has(db);
}

/** A pg pool with Skein's settings (UTC sessions). */
export function createPool(connectionString: string, options: CreatePoolOptions = {}): Pool {
  const pool = new Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'skein',
    options: options.plannedOnce ? '-c timezone=UTC -c plan_cache_mode=force_generic_plan -c enable_nestloop=off' : '-c timezone=UTC',
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
