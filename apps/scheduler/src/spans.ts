import { attemptSpanId, recordFinishedSpan, runRetrySpanId, runSpanId, runTraceId, tracingEnabled } from '@skein/telemetry';
import type { EndedAttempt, EndedRun } from './run-applier';

/** Records the span of an attempt that ended: a child of its run's span. Nothing when tracing is off. */
export function recordAttemptSpan(runId: string, workflowId: string, attempt: EndedAttempt): void {
  if (!tracingEnabled()) return;
  recordFinishedSpan({
    name: `attempt ${attempt.task}#${attempt.number}`,
    traceId: runTraceId(runId),
    spanId: attemptSpanId(attempt.attemptId),
    parentSpanId: runSpanId(runId),
    startTime: attempt.startTime,
    endTime: attempt.endTime,
    attributes: {
      'skein.workflow': workflowId, 'skein.run_id': runId, 'skein.task': attempt.task, 'skein.attempt': attempt.number,
      'skein.attempt_id': attempt.attemptId, 'skein.attempt.state': attempt.state, 'skein.executor': attempt.executor,
    },
    error: attempt.state === 'succeeded' ? undefined : attempt.reason || attempt.state,
  });
}

/**
 * Records a run's span, the root of its trace, once the run ended. A run retried in place ends again:
 * that end records a span of its own for the retry (a child of the run's span, from the retry's start),
 * so no span id is ever recorded twice.
 */
export function recordRunSpan(run: EndedRun): void {
  if (!tracingEnabled()) return;
  if (run.retries > 0) {
    recordFinishedSpan({
      name: `run ${run.workflowId} (retry ${run.retries})`,
      traceId: runTraceId(run.runId),
      spanId: runRetrySpanId(run.runId, run.retries),
      parentSpanId: runSpanId(run.runId),
      startTime: run.retryTime ?? run.createTime,
      endTime: run.endTime,
      attributes: { 'skein.workflow': run.workflowId, 'skein.run_id': run.runId, 'skein.run.state': run.state, 'skein.run.retry': run.retries },
      error: run.state === 'succeeded' ? undefined : run.state,
    });
    return;
  }
  recordFinishedSpan({
    name: `run ${run.workflowId}`,
    traceId: runTraceId(run.runId),
    spanId: runSpanId(run.runId),
    startTime: run.createTime,
    endTime: run.endTime,
    attributes: { 'skein.workflow': run.workflowId, 'skein.run_id': run.runId, 'skein.run.state': run.state },
    error: run.state === 'succeeded' ? undefined : run.state,
    linkTo: run.callerTraceparent || undefined,
  });
}
