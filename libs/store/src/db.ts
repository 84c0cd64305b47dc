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
}

/** A pg pool with Skein's settings (UTC sessions). */
export function createPool(connectionString: string, options: CreatePoolOptions = {}): Pool {
  const pool = new Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'skein',
    options: '-c timezone=UTC',
  });
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
