import type { Queryable } from './db';

/** 1 stdout, 2 stderr, 3 system — the LogLineStream numbers of the internal contract. */
export type LogStreamCode = 1 | 2 | 3;

export interface LogLineRecord {
  readonly sequence: number;
  readonly stream: LogStreamCode;
  readonly time: Date;
  readonly text: string;
}

/** Stores lines idempotently on (attempt, sequence); returns how many were new. */
export async function insertLogLines(db: Queryable, attemptId: string, lines: readonly LogLineRecord[]): Promise<number> {
  if (lines.length === 0) return 0;
  const result = await db.query(
    `INSERT INTO log_lines (attempt_id, seq, stream, time, text)
     SELECT $1, l.seq, l.stream, l.time, l.text
       FROM unnest($2::bigint[], $3::smallint[], $4::timestamptz[], $5::text[]) AS l(seq, stream, time, text)
     ON CONFLICT (attempt_id, seq) DO NOTHING`,
    [attemptId, lines.map((l) => l.sequence), lines.map((l) => l.stream), lines.map((l) => l.time),
      // PostgreSQL text cannot hold NUL; everything else is kept as is.
      lines.map((l) => l.text.replace(/\u0000/g, '\uFFFD'))]);
  return result.rowCount ?? 0;
}

/** Adds newly stored lines to the attempt's count and records its final count when known. */
export async function recordLogProgress(db: Queryable, attemptId: string, added: number, finalCount: number | null): Promise<void> {
  await db.query(
    `INSERT INTO log_attempts (attempt_id, stored_count, final_count) VALUES ($1, $2, $3)
     ON CONFLICT (attempt_id) DO UPDATE
       SET stored_count = log_attempts.stored_count + $2,
           final_count = coalesce($3, log_attempts.final_count), update_time = now()`,
    [attemptId, added, finalCount]);
}

export async function readLogLines(db: Queryable, attemptId: string, afterSequence: number, limit: number): Promise<LogLineRecord[]> {
  const { rows } = await db.query<{ seq: string; stream: number; time: Date; text: string }>(
    `SELECT seq, stream, time, text FROM log_lines WHERE attempt_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [attemptId, afterSequence, limit]);
  return rows.map((r) => ({ sequence: Number(r.seq), stream: r.stream as LogStreamCode, time: r.time, text: r.text }));
}

export interface LogStatus {
  readonly storedCount: number;
  readonly finalCount: number | null;
  /** The executor reported the final count and every line up to it is stored. */
  readonly complete: boolean;
}

export async function getLogStatus(db: Queryable, attemptId: string): Promise<LogStatus> {
  const { rows } = await db.query<{ stored_count: string; final_count: string | null }>(
    `SELECT stored_count, final_count FROM log_attempts WHERE attempt_id = $1`, [attemptId]);
  const row = rows[0];
  if (!row) return { storedCount: 0, finalCount: null, complete: false };
  const stored = Number(row.stored_count);
  const final = row.final_count === null ? null : Number(row.final_count);
  return { storedCount: stored, finalCount: final, complete: final !== null && stored >= final };
}
