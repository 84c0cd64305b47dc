import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { fixedIds } from './fixed-ids';

export interface TelemetryOptions {
  /** `service.name` of every span. */
  readonly serviceName: string;
  /** OTLP/gRPC endpoint (OTEL_EXPORTER_OTLP_ENDPOINT); without it and without `exporter`, tracing stays off. */
  readonly otlpEndpoint?: string;
  /** An exporter to use instead of OTLP (tests: InMemorySpanExporter). Spans are exported one by one. */
  readonly exporter?: SpanExporter;
}

export interface Telemetry {
  readonly enabled: boolean;
  forceFlush(): Promise<void>;
  /** Flushes and shuts down; idempotent. */
  shutdown(): Promise<void>;
}

/** Starts the OpenTelemetry SDK for a process. Only a service's main (or standalone) calls this. */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  let exporter = options.exporter;
  if (!exporter && options.otlpEndpoint) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    exporter = new OTLPTraceExporter({ url: options.otlpEndpoint });
  }
  if (!exporter) {
    return { enabled: false, forceFlush: async () => undefined, shutdown: async () => undefined };
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    idGenerator: fixedIds,
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  let shutdown: Promise<void> | undefined;
  return {
    enabled: true,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => (shutdown ??= provider.shutdown()),
  };
}
