import { createHash } from 'node:crypto';

/**
 * Trace and span ids derived from Skein's own ids. A run and its attempts outlive any one scheduler
 * process (replicas, restarts), so their spans are recorded when they end, by whichever replica sees
 * the end, with ids every replica computes alike — and the dispatch can carry an attempt's trace
 * context before its span is recorded.
 */
function hex(input: string, length: number): string {
  return createHash('sha256').update(input).digest('hex').slice(0, length);
}

/** Trace ids of recent runs: a run's dispatches and span records all ask (a 5,000-task run, 5,000 times). */
const recentTraceIds = new Map<string, string>();
const REMEMBERED_TRACE_IDS = 4096;

/** The trace id of a run: every span of the run belongs to it. */
export function runTraceId(runId: string): string {
  const known = recentTraceIds.get(runId);
  if (known !== undefined) return known;
  const traceId = hex(`skein/run/${runId}`, 32);
  if (recentTraceIds.size >= REMEMBERED_TRACE_IDS) {
    const oldest = recentTraceIds.keys().next();
    if (!oldest.done) recentTraceIds.delete(oldest.value);
  }
  recentTraceIds.set(runId, traceId);
  return traceId;
}

export function runSpanId(runId: string): string {
  return hex(`skein/run-span/${runId}`, 16);
}

/** The span of a run's `retry`-th retry in place (1 for the first): a child of the run's span. */
export function runRetrySpanId(runId: string, retry: number): string {
  return hex(`skein/run-retry-span/${runId}/${retry}`, 16);
}

export function attemptSpanId(attemptId: string): string {
  return hex(`skein/attempt-span/${attemptId}`, 16);
}

/** W3C traceparent of an attempt's span: what its dispatch, executor and task process see. */
export function attemptTraceparent(runId: string, attemptId: string): string {
  return `00-${runTraceId(runId)}-${attemptSpanId(attemptId)}-01`;
}

/** Parses a W3C traceparent; undefined when malformed. */
export function parseTraceparent(value: string): { traceId: string; spanId: string; sampled: boolean } | undefined {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value.trim());
  if (!m || /^0+$/.test(m[1] as string) || /^0+$/.test(m[2] as string)) return undefined;
  return { traceId: m[1] as string, spanId: m[2] as string, sampled: (parseInt(m[3] as string, 16) & 1) === 1 };
}
