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

/** The trace id of a run: every span of the run belongs to it. */
export function runTraceId(runId: string): string {
  return hex(`skein/run/${runId}`, 32);
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
