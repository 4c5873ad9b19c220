// One OpenTelemetry span per client call (across its retries and redirects), through
// @opentelemetry/api only: without an SDK in the application the spans do not record and cost
// next to nothing. With one, the span is named after the RPC ("dengine.api.v1.KvService/Put"),
// carries the endpoint tried last and the number of attempts, and the call's trace context goes
// out in the request headers (W3C traceparent, through whatever propagator the SDK installed).
import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type Transport,
} from "@connectrpc/connect";
import { context, propagation, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

export const tracer = trace.getTracer("@d-engine/client");

/** A call's span, its attempts so far, and the context values its attempts carry. */
export interface CallTrace {
  readonly span: Span;
  attempts: number;
  /** Undefined when the span does not record (no SDK): attempts then carry nothing extra. */
  readonly values: ContextValues | undefined;
}

/** The trace of the call an RPC attempt belongs to (absent: not traced). */
const CALL_TRACE = createContextKey<CallTrace | undefined>(undefined, {
  description: "d-engine client call trace",
});

/** Starts a call's span (ended by the caller with endCallTrace). */
export function startCallTrace(): CallTrace {
  const span = tracer.startSpan("dengine.client.call");
  if (!span.isRecording()) return { span, attempts: 0, values: undefined };
  const values = createContextValues();
  const t: CallTrace = { span, attempts: 0, values };
  values.set(CALL_TRACE, t);
  return t;
}

export function endCallTrace({ span }: CallTrace, error?: unknown): void {
  if (error !== undefined && span.isRecording()) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}

/** Wraps a Connect transport: each attempt names and annotates its call's span, and propagates it. */
type HeaderInit = Parameters<Transport["unary"]>[3];

/**
 * Notes one attempt of `method` at `baseUrl` on its call's span: names the span after the RPC,
 * counts the attempt. Also for attempts that travel inside a stream (the KV pipeline), which
 * carry no headers of their own. Returns the call's trace (undefined: not traced).
 */
export function noteAttempt(
  method: { name: string; parent: { typeName: string } },
  values: ContextValues | undefined,
  baseUrl: string,
): CallTrace | undefined {
  const call = values?.get(CALL_TRACE);
  if (!call) return undefined;
  call.attempts++;
  call.span.updateName(`${method.parent.typeName}/${method.name}`);
  call.span.setAttributes({
    "rpc.system": "connect_rpc",
    "rpc.service": method.parent.typeName,
    "rpc.method": method.name,
    "server.address": baseUrl,
    "dengine.attempts": call.attempts,
  });
  return call;
}

export function tracedTransport(t: Transport, baseUrl: string): Transport {
  const annotate = (
    method: { name: string; parent: { typeName: string } },
    header: HeaderInit,
    values: ContextValues | undefined,
  ): HeaderInit => {
    const call = noteAttempt(method, values, baseUrl);
    if (!call) return header;
    const { span } = call;
    const headers = new Headers(header);
    propagation.inject(trace.setSpan(context.active(), span), headers, {
      set: (carrier, key, value) => carrier.set(key, value),
    });
    return headers;
  };
  return {
    unary: (method, signal, timeoutMs, header, input, values) =>
      t.unary(method, signal, timeoutMs, annotate(method, header, values), input, values),
    stream: (method, signal, timeoutMs, header, input, values) =>
      t.stream(method, signal, timeoutMs, annotate(method, header, values), input, values),
  };
}
