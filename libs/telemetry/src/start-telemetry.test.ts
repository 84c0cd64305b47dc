import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, tracingEnabled } from './start-telemetry';

describe('startTelemetry', () => {
  it('says spans are exported only while a telemetry with an exporter runs', async () => {
    expect(tracingEnabled()).toBe(false);
    const off = await startTelemetry({ serviceName: 'skein-test' });
    expect(off.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    const on = await startTelemetry({ serviceName: 'skein-test', exporter: new InMemorySpanExporter() });
    expect(on.enabled).toBe(true);
    expect(tracingEnabled()).toBe(true);
    await on.shutdown();
    await on.shutdown();
    expect(tracingEnabled()).toBe(false);
  });
});
