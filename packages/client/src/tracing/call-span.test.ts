// The network client makes one span per call, named after the RPC, across retries; the call's
// trace context goes out in the request headers; a failed call's span says so. A minimal
// in-test tracer provider and propagator stand in for an OpenTelemetry SDK.
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { ClusterService, KvService } from "@d-engine/proto/api";
import {
  type Attributes,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanStatus,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createNetworkClient } from "../client/network-client.js";

interface Recorded {
  name: string;
  attributes: Attributes;
  status: SpanStatus | undefined;
  exceptions: unknown[];
  ended: boolean;
  readonly id: string;
}

const spans: Recorded[] = [];
let nextId = 1;

function recordingSpan(name: string): Span {
  const r: Recorded = {
    name,
    attributes: {},
    status: undefined,
    exceptions: [],
    ended: false,
    id: (nextId++).toString(16).padStart(16, "0"),
  };
  spans.push(r);
  const span: Span = {
    spanContext: () => ({ traceId: "1".repeat(32), spanId: r.id, traceFlags: 1 }),
    setAttribute: (k, v) => {
      if (v !== undefined) r.attributes[k] = v;
      return span;
    },
    setAttributes: (a) => {
      Object.assign(r.attributes, a);
      return span;
    },
    addEvent: () => span,
    addLink: () => span,
    addLinks: () => span,
    setStatus: (s) => {
      r.status = s;
      return span;
    },
    updateName: (n) => {
      r.name = n;
      return span;
    },
    end: () => {
      r.ended = true;
    },
    isRecording: () => !r.ended,
    recordException: (e) => {
      r.exceptions.push(e);
    },
  };
  return span;
}

const tracer: Tracer = {
  startSpan: (name) => recordingSpan(name),
  startActiveSpan: (() => {
    throw new Error("not used");
  }) as Tracer["startActiveSpan"],
};
const provider: TracerProvider = { getTracer: () => tracer };
/** Writes the active span's id into x-test-span, as a W3C propagator writes traceparent. */
const propagator: TextMapPropagator = {
  inject(ctx: Context, carrier, setter) {
    const span = trace.getSpan(ctx);
    if (span) setter.set(carrier, "x-test-span", span.spanContext().spanId);
  },
  extract: (ctx) => ctx,
  fields: () => ["x-test-span"],
};

beforeAll(() => {
  expect(trace.setGlobalTracerProvider(provider)).toBe(true);
  expect(propagation.setGlobalPropagator(propagator)).toBe(true);
});
afterAll(() => {
  trace.disable();
  propagation.disable();
});

it("one span per call across its retries, named after the RPC, context in the headers", async () => {
  let calls = 0;
  const seenSpanIds: (string | null)[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(ClusterService, {
      leader: () => ({ leaderId: 1n, leaderAddress: "127.0.0.1:1", term: 1n }),
    });
    service(KvService, {
      put(_req, ctx) {
        seenSpanIds.push(ctx.requestHeader.get("x-test-span"));
        // The first attempt fails in a way that is safe to retry.
        if (++calls === 1) throw new ConnectError("try again", Code.Unavailable);
        return { revision: 7n };
      },
      get() {
        throw new ConnectError("no such thing", Code.InvalidArgument);
      },
    });
  });
  const client = createNetworkClient(
    { endpoints: ["127.0.0.1:1"], retry: { initialDelayMs: 1, maxDelayMs: 2 } },
    { create: () => transport, close: () => {} },
  );
  spans.length = 0;
  const put = await client.put("k", "v");
  expect(put.revision).toBe(7);
  const callSpans = spans.filter((s) => s.name.startsWith("dengine.api.v1.KvService/"));
  expect(callSpans).toHaveLength(1);
  const [s] = callSpans as [Recorded];
  expect(s.name).toBe("dengine.api.v1.KvService/Put");
  expect(s.ended).toBe(true);
  expect(s.status).toBeUndefined();
  expect(s.attributes).toMatchObject({
    "rpc.system": "connect_rpc",
    "rpc.service": "dengine.api.v1.KvService",
    "rpc.method": "Put",
    "dengine.attempts": 2,
  });
  expect(seenSpanIds).toEqual([s.id, s.id]);

  spans.length = 0;
  await expect(client.get("k", { consistency: "eventual" })).rejects.toThrow(/no such thing/);
  const failed = spans.find((x) => x.name === "dengine.api.v1.KvService/Get");
  expect(failed?.ended).toBe(true);
  expect(failed?.status?.code).toBe(SpanStatusCode.ERROR);
  expect(failed?.exceptions).toHaveLength(1);
  await client.close();
});

it("without a tracer provider the spans record nothing", () => {
  trace.disable();
  const span = trace.getTracer("x").startSpan("y");
  expect(span.isRecording()).toBe(false);
  expect(ROOT_CONTEXT).toBeDefined();
});

it("a call that finds no leader over an in-memory transport ends at its deadline, span failed", async () => {
  // Every attempt fails without I/O here: the retry loop must still give the deadline its turn.
  const transport = createRouterTransport(() => {});
  const client = createNetworkClient(
    { endpoints: ["127.0.0.1:1"], timeoutMs: 200, retry: { initialDelayMs: 1, maxDelayMs: 2 } },
    { create: () => transport, close: () => {} },
  );
  trace.setGlobalTracerProvider(provider);
  spans.length = 0;
  await expect(client.put("k", "v")).rejects.toThrow(/deadline of 200 ms/);
  expect(spans.at(-1)?.status?.code).toBe(SpanStatusCode.ERROR);
  await client.close();
});
