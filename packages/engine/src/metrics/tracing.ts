// OpenTelemetry spans through @opentelemetry/api only: without an SDK the API hands out
// non-recording spans (no export, next to no cost); an application that installs an SDK (a
// TracerProvider) sees a span per proposal, from propose to apply, and a span per applied batch.
import { type Span, SpanStatusCode, trace } from "@opentelemetry/api";

/** The engine's tracer; resolves the provider lazily, so an SDK installed later still counts. */
export const tracer = trace.getTracer("@d-engine/engine");

/** Marks `span` failed with `e` (the caller still ends it). */
export function failSpan(span: Span, e: unknown): void {
  if (!span.isRecording()) return;
  span.recordException(e instanceof Error ? e : String(e));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: e instanceof Error ? e.message : String(e),
  });
}
