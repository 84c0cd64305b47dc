import type { Pool } from 'pg';
import type { FaninCounters } from './dag-driver';

/** Fan-in counters in a PostgreSQL table, decremented with one `UPDATE … RETURNING` per finished task. */
export async function pgFaninCounters(pool: Pool): Promise<FaninCounters> {
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_fanin (run text NOT NULL, task int NOT NULL, remaining int NOT NULL, PRIMARY KEY (run, task))`);
  return {
    async init(run, counts) {
      await pool.query(`INSERT INTO bench_fanin (run, task, remaining) SELECT $1, t, r FROM unnest($2::int[], $3::int[]) AS x(t, r)`,
        [run, counts.map((c) => c.task), counts.map((c) => c.remaining)]);
    },
    async decrement(run, tasks) {
      // Rows are locked in task order first: concurrent upstream tasks decrementing overlapping sets
      // (a layered DAG) would otherwise deadlock.
      const { rows } = await pool.query<{ task: number; remaining: number }>(
        `WITH locked AS (SELECT run, task FROM bench_fanin WHERE run = $1 AND task = ANY($2::int[]) ORDER BY task FOR UPDATE)
         UPDATE bench_fanin f SET remaining = f.remaining - 1 FROM locked l WHERE f.run = l.run AND f.task = l.task
         RETURNING f.task, f.remaining`, [run, tasks]);
      return rows.filter((r) => r.remaining === 0).map((r) => r.task);
    },
  };
}
