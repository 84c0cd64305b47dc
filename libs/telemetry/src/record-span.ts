import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes } from '@opentelemetry/api';
import { fixedIds } from './fixed-ids';
import { parseTraceparent } from './trace-ids';

export interface FinishedSpan {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  /** Absent for a trace's root span. */
  readonly parentSpanId?: string;
  readonly startTime: Date;
  readonly endTime: Date;
  readonly attributes?: Attributes;
  readonly error?: string;
  readonly kind?: SpanKind;
  /** A W3C traceparent this span links to (e.g. the API call that created a run). */
  readonly linkTo?: string;
}

/**
 * Records a span that already ended, with the given ids. Does nothing when no tracer provider with
 * Skein's id generator is installed (telemetry off).
 */
export function recordFinishedSpan(span: FinishedSpan): void {
  const tracer = trace.getTracer('skein');
  const parent = span.parentSpanId
    ? trace.setSpanContext(ROOT_CONTEXT, { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true })
    : ROOT_CONTEXT;
  const link = span.linkTo ? parseTraceparent(span.linkTo) : undefined;
  const links = link ? [{ context: { traceId: link.traceId, spanId: link.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true } }] : [];
  const started = fixedIds.with(span.traceId, span.spanId, () =>
    tracer.startSpan(span.name, { startTime: span.startTime, attributes: span.attributes, kind: span.kind ?? SpanKind.INTERNAL, links }, parent));
  if (span.error) started.setStatus({ code: SpanStatusCode.ERROR, message: span.error });
  started.end(span.endTime);
}

/** Runs `fn` in the context of a remote parent given as a W3C traceparent (e.g. from a dispatch). */
export function withRemoteParent<T>(traceId: string, spanId: string, fn: () => T): T {
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  return context.with(ctx, fn);
}
