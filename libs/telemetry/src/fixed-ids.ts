import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';

/**
 * An IdGenerator that returns random ids, except inside `fixedIds.with(traceId, spanId, fn)`, where the
 * span started synchronously by `fn` gets the given ids. startSpan is synchronous, so the override
 * cannot leak into another span.
 */
class FixedIdGenerator implements IdGenerator {
  private traceId: string | undefined;
  private spanId: string | undefined;

  generateTraceId(): string {
    const id = this.traceId;
    this.traceId = undefined;
    return id ?? randomBytes(16).toString('hex');
  }

  generateSpanId(): string {
    const id = this.spanId;
    this.spanId = undefined;
    return id ?? randomBytes(8).toString('hex');
  }

  with<T>(traceId: string, spanId: string, fn: () => T): T {
    this.traceId = traceId;
    this.spanId = spanId;
    try {
      return fn();
    } finally {
      this.traceId = undefined;
      this.spanId = undefined;
    }
  }
}

export const fixedIds = new FixedIdGenerator();
