import { propagation } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
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

/** How many started telemetries export spans (tests may start and shut down several). */
let recording = 0;

/**
 * Whether spans are exported: without an exporter a span recorded is dropped, so a caller whose span
 * costs work (ids hashed per attempt, attributes) skips it.
 */
export function tracingEnabled(): boolean {
  return recording > 0;
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
  // Loaded only when spans are exported: the SDK is ~10 MB of a service's memory that tracing off never uses.
  const [{ W3CTraceContextPropagator }, { resourceFromAttributes }, { BatchSpanProcessor, SimpleSpanProcessor }, { NodeTracerProvider }] = await Promise.all([
    import('@opentelemetry/core'), import('@opentelemetry/resources'), import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/sdk-trace-node'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    idGenerator: fixedIds,
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  recording += 1;
  let shutdown: Promise<void> | undefined;
  return {
    enabled: true,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => {
      if (shutdown === undefined) {
        recording -= 1;
        shutdown = provider.shutdown();
      }
      return shutdown;
    },
  };
}
