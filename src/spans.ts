/**
 * This server's own trace spans, through the OpenTelemetry API: real spans when tracing is on (src/tracing.ts
 * registers the SDK), the API's no-op ones otherwise, so callers never ask whether it is.
 */
import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

export const tracer = trace.getTracer('opportunity-api');

/** Runs `work` inside a span (the active one for whatever `work` calls, Prisma's spans included). */
export function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
