import { Client } from 'pg';

export interface AttemptTiming {
  readonly task: string;
  readonly start: number;
  readonly end: number;
  readonly dependsOn: readonly string[];
}

/** Start and end of every task's successful attempt, with its upstream, read from the store. */
export async function readTimings(databaseUrl: string, runId: string): Promise<{ timings: AttemptTiming[]; created: number; ended: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ task: string; start: Date; end: Date; depends: string[] | null }>(
      `SELECT a.task, a.start_time AS start, a.end_time AS "end",
              (SELECT array_agg(d) FROM jsonb_array_elements_text(t.value -> 'dependsOn') d) AS depends
         FROM attempts a
         JOIN runs r ON r.id = a.run_id
         JOIN workflow_versions v ON v.workflow_id = r.workflow_id AND v.version = r.workflow_version
         CROSS JOIN LATERAL jsonb_array_elements(v.spec -> 'spec' -> 'tasks') t
        WHERE a.run_id = $1 AND a.state = 'succeeded' AND t.value ->> 'name' = a.task`, [runId]);
    const run = await client.query<{ create_time: Date; end_time: Date }>('SELECT create_time, end_time FROM runs WHERE id = $1', [runId]);
    return {
      timings: rows.map((r) => ({ task: r.task, start: r.start.getTime(), end: r.end.getTime(), dependsOn: r.depends ?? [] })),
      created: run.rows[0]?.create_time.getTime() ?? 0,
      ended: run.rows[0]?.end_time.getTime() ?? 0,
    };
  } finally {
    await client.end();
  }
}

/** Hop of each task with upstream: its start − the end of its last upstream to end. */
export function hops(timings: readonly AttemptTiming[]): number[] {
  const byTask = new Map(timings.map((t) => [t.task, t]));
  const result: number[] = [];
  for (const t of timings) {
    if (t.dependsOn.length === 0) continue;
    const lastEnd = Math.max(...t.dependsOn.map((d) => byTask.get(d)?.end ?? Number.NaN));
    if (Number.isFinite(lastEnd)) result.push(t.start - lastEnd);
  }
  return result;
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}
