/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; see src/config/settings.ts). When on: W3C `traceparent` propagation, a server span
 * per HTTP request (@opentelemetry/instrumentation-http, which follows an incoming traceparent), a span per
 * Prisma operation and SQL statement (@prisma/instrumentation), pool waits and queries of node-postgres
 * (@opentelemetry/instrumentation-pg), and this server's own spans (GraphQL phases, subscription set-up and
 * refetches, webhooks: src/server/tracing.ts and their callers), exported in batches as OTLP/HTTP JSON.
 *
 * Imported first by src/main.ts: the instrumentations patch `http` and `pg` when those are first required, so
 * this module must run before anything requires them. Off, it registers nothing, and every span the code asks
 * for is the API's no-op.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import { loadConfig, loadDotEnv, type TracingConfig } from './config';

export interface Tracing {
  /** Exports what is still buffered and stops. */
  shutdown(): Promise<void>;
}

export function startTracing({ tracesEndpoint, serviceName, sampleRatio }: TracingConfig): Tracing | undefined {
  if (!tracesEndpoint) return undefined;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: tracesEndpoint }), scheduledDelayMillis: 1_000 })],
  });
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Health probes and metric scrapes would be most of the traces, and tell nothing.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(health|ready|metrics)\b/.test(req.url ?? '') }),
      new PgInstrumentation({ requireParentSpan: true }),
      new PrismaInstrumentation(),
    ],
  });
  return { shutdown: () => provider.shutdown() };
}

/**
 * The process's tracing, started as this module loads. A configuration the server will refuse starts nothing
 * here: main.ts reports it.
 */
export const tracing: Tracing | undefined = (() => {
  try {
    loadDotEnv();
    return startTracing(loadConfig().tracing);
  } catch {
    return undefined;
  }
})();
