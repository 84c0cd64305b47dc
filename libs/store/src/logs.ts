import type { Queryable } from './db';
import { intArray, textArray, timestampArray } from './pg-array';

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
  const result = await db.query({
    name: 'skein_insert_log_lines',
    text: `INSERT INTO log_lines (attempt_id, seq, stream, time, text)
     SELECT $1, l.seq, l.stream, l.time, l.text
       FROM unnest($2::bigint[], $3::smallint[], $4::timestamptz[], $5::text[]) AS l(seq, stream, time, text)
     ON CONFLICT (attempt_id, seq) DO NOTHING`,
    values: [attemptId, intArray(lines.map((l) => l.sequence)), intArray(lines.map((l) => l.stream)), timestampArray(lines.map((l) => l.time)),
      // PostgreSQL text cannot hold NUL; everything else is kept as is.
      textArray(lines.map((l) => (l.text.includes('\u0000') ? l.text.replace(/\u0000/g, '\uFFFD') : l.text)))],
  });
  return result.rowCount ?? 0;
}

/**
 * Adds newly stored lines to the attempt's count and records its final count when known, and its
 * workflow (for retention) when the attempt has none yet.
 */
export async function recordLogProgress(
  db: Queryable, attemptId: string, added: number, finalCount: number | null, workflow: string | null = null,
): Promise<LogStatus> {
  const { rows } = await db.query<{ stored_count: string; final_count: string | null; gap_detect_time: Date | null }>({
    name: 'skein_record_log_progress_v2',
    text: `INSERT INTO log_attempts (attempt_id, stored_count, final_count, workflow) VALUES ($1, $2, $3, $4)
     ON CONFLICT (attempt_id) DO UPDATE
       SET stored_count = log_attempts.stored_count + $2,
           final_count = coalesce($3, log_attempts.final_count), update_time = now(),
           workflow = coalesce(log_attempts.workflow, $4)
     RETURNING stored_count, final_count, gap_detect_time`,
    values: [attemptId, added, finalCount, workflow],
  });
  return toLogStatus(rows[0]);
}

export async function readLogLines(db: Queryable, attemptId: string, afterSequence: number, limit: number): Promise<LogLineRecord[]> {
  const { rows } = await db.query<{ seq: string; stream: number; time: Date; text: string }>({
    name: 'skein_read_log_lines',
    text: `SELECT seq, stream, time, text FROM log_lines WHERE attempt_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    values: [attemptId, afterSequence, limit],
  });
  return rows.map((r) => ({ sequence: Number(r.seq), stream: r.stream as LogStreamCode, time: r.time, text: r.text }));
}

/** Bytes of stdout/stderr text stored for an attempt (UTF-8; system lines not counted). */
export async function sumLogOutputBytes(db: Queryable, attemptId: string): Promise<number> {
  const { rows } = await db.query<{ bytes: string }>({
    name: 'skein_sum_log_output_bytes',
    text: `SELECT coalesce(sum(octet_length(text)), 0) AS bytes FROM log_lines WHERE attempt_id = $1 AND stream <> 3`,
    values: [attemptId],
  });
  return Number(rows[0]?.bytes ?? 0);
}

export interface LogStatus {
  readonly storedCount: number;
  readonly finalCount: number | null;
  /** The executor reported the final count and every line up to it is stored. */
  readonly complete: boolean;
  /**
   * The final count has been known for a while and lines are still missing: the gap check flagged it
   * (see {@link flagLogGaps}). Lines arriving later still complete the log.
   */
  readonly gap?: boolean;
}

function toLogStatus(row: { stored_count: string; final_count: string | null; gap_detect_time?: Date | null } | undefined): LogStatus {
  if (!row) return { storedCount: 0, finalCount: null, complete: false };
  const stored = Number(row.stored_count);
  const final = row.final_count === null ? null : Number(row.final_count);
  const complete = final !== null && stored >= final;
  return { storedCount: stored, finalCount: final, complete, ...(row.gap_detect_time && !complete ? { gap: true } : {}) };
}

export async function getLogStatus(db: Queryable, attemptId: string): Promise<LogStatus> {
  const { rows } = await db.query<{ stored_count: string; final_count: string | null; gap_detect_time: Date | null }>(
    `SELECT stored_count, final_count, gap_detect_time FROM log_attempts WHERE attempt_id = $1`, [attemptId]);
  return toLogStatus(rows[0]);
}

/**
 * Flags attempts whose final count is known but whose lines have been missing for longer than
 * `graceMs` (a batch that will never come: an executor that lost it). Returns the attempts flagged.
 */
export async function flagLogGaps(db: Queryable, graceMs: number): Promise<{ attemptId: string; missing: number }[]> {
  const { rows } = await db.query<{ attempt_id: string; missing: string }>(
    `UPDATE log_attempts SET gap_detect_time = now()
      WHERE final_count IS NOT NULL AND stored_count < final_count AND gap_detect_time IS NULL
        AND update_time < now() - make_interval(secs => $1::double precision / 1000)
      RETURNING attempt_id, final_count - stored_count AS missing`, [graceMs]);
  return rows.map((r) => ({ attemptId: r.attempt_id, missing: Number(r.missing) }));
}

/**
 * Which attempts' logs retention takes: those unchanged since `before`, either of one workflow, or of
 * every workflow but the ones listed (including attempts whose workflow is unknown).
 */
export type LogExpiry =
  | { readonly before: Date; readonly workflow: string }
  | { readonly before: Date; readonly exceptWorkflows: readonly string[] };

/** Attempts whose log has expired (oldest first): what retention deletes. */
export async function listExpiredLogAttempts(db: Queryable, expiry: LogExpiry, limit: number): Promise<string[]> {
  const { rows } = 'workflow' in expiry
    ? await db.query<{ attempt_id: string }>(
      `SELECT attempt_id FROM log_attempts WHERE workflow = $1 AND update_time < $2 ORDER BY update_time LIMIT $3`,
      [expiry.workflow, expiry.before, limit])
    : await db.query<{ attempt_id: string }>(
      `SELECT attempt_id FROM log_attempts
        WHERE update_time < $1 AND (workflow IS NULL OR workflow <> ALL($2::text[]))
        ORDER BY update_time LIMIT $3`,
      [expiry.before, expiry.exceptWorkflows, limit]);
  return rows.map((r) => r.attempt_id);
}

/**
 * The workflows whose current version sets `spec.logRetentionDays`, with its value (0: keep forever).
 * Read by the log-collector's retention job; a deleted workflow's logs fall back to the default.
 */
export async function listWorkflowLogRetention(db: Queryable): Promise<Map<string, number>> {
  const { rows } = await db.query<{ id: string; days: number }>(
    `SELECT w.id, (v.spec->'spec'->>'logRetentionDays')::integer AS days
       FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.current_version
      WHERE v.spec->'spec' ? 'logRetentionDays'`);
  return new Map(rows.map((r) => [r.id, r.days]));
}

/** Deletes up to `limit` lines of an attempt (small batches keep locks and WAL bursts short). */
export async function deleteLogLinesBatch(db: Queryable, attemptId: string, limit: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM log_lines WHERE attempt_id = $1 AND seq IN (
       SELECT seq FROM log_lines WHERE attempt_id = $1 ORDER BY seq LIMIT $2)`, [attemptId, limit]);
  return result.rowCount ?? 0;
}

/**
 * Deletes an attempt's log record once its lines are gone — unless it changed since `before` (a late
 * batch arrived during the deletion: it is kept, and the next retention pass takes it).
 */
export async function deleteLogAttempt(db: Queryable, attemptId: string, before: Date): Promise<boolean> {
  const result = await db.query(
    `DELETE FROM log_attempts a WHERE a.attempt_id = $1 AND a.update_time < $2
        AND NOT EXISTS (SELECT 1 FROM log_lines l WHERE l.attempt_id = a.attempt_id)`, [attemptId, before]);
  return (result.rowCount ?? 0) > 0;
}
