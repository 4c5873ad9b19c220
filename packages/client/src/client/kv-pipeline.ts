// Key-value calls over one KvService.Pipeline stream per endpoint instead of one HTTP/2 stream
// per call. connect-node spends about 130-165 µs of server CPU per unary call but about 45 µs per
// stream message, and many calls per message cost little more than one (ANCHORS.md): so the calls
// made in one event-loop turn leave as one message, and the server answers the calls that finished
// in one turn with one message.
//
// This replaces only how one attempt travels. Routing, retries, deadlines, leader redirects and
// write sessions stay in the network client, which sees the same outcomes a unary call gives:
//   - an answer, or the server's error rebuilt as the ConnectError (code, message, ErrorDetail)
//     the unary call would have thrown, so it becomes the same typed error;
//   - a broken stream fails every call on it with the stream's error, as a broken unary call
//     fails: for a write that is "outcome unknown", and the client retries it with the same
//     session (it applies once); the next call opens a new stream;
//   - a server without Pipeline answers Unimplemented before running anything: the calls on that
//     stream go again as unary calls, and so does every later call to that endpoint;
//   - a call whose signal aborts (deadline, cancel, client closed) fails at once, and the server
//     is told to abort it, as a reset unary stream tells it.
import { create, type DescMessage, toBinary } from "@bufbuild/protobuf";
import {
  type Client,
  Code,
  type CallOptions as ConnectCallOptions,
  ConnectError,
} from "@connectrpc/connect";
import {
  type CompactRequest,
  type CompareAndSwapRequest,
  CompareAndSwapRequestSchema,
  type CompareAndSwapResponse,
  type DeleteRequest,
  DeleteRequestSchema,
  type DeleteResponse,
  ErrorDetailSchema,
  type GetManyRequest,
  GetManyRequestSchema,
  type GetManyResponse,
  type GetRequest,
  type GetResponse,
  KvService,
  type PipelineCall,
  PipelineCallSchema,
  type PipelineRequest,
  PipelineRequestSchema,
  type PipelineResponse,
  type PipelineResult,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  RangeRequestSchema,
  type RangeResponse,
  type TxnRequest,
  TxnRequestSchema,
  type TxnResponse,
} from "@d-engine/proto/api";
import { noteAttempt } from "../tracing/call-span.js";
import type { AbortHook } from "./scope.js";

/** An attempt's call options, with the call's abort hook (cheaper to watch than its signal). */
export type AttemptCall = ConnectCallOptions & { readonly abortHook?: AbortHook };

/** The KvService calls the network client makes. */
export type KvStub = Pick<
  Client<typeof KvService>,
  "put" | "get" | "getMany" | "range" | "delete" | "compareAndSwap" | "txn" | "compact"
>;

/** The calls that travel on the pipeline (compact, rare, stays unary). */
interface Requests {
  put: PutRequest;
  get: GetRequest;
  getMany: GetManyRequest;
  range: RangeRequest;
  delete: DeleteRequest;
  compareAndSwap: CompareAndSwapRequest;
  txn: TxnRequest;
}
interface Responses {
  put: PutResponse;
  get: GetResponse;
  getMany: GetManyResponse;
  range: RangeResponse;
  delete: DeleteResponse;
  compareAndSwap: CompareAndSwapResponse;
  txn: TxnResponse;
}
type Kind = keyof Requests;

/**
 * A request message is cut once its calls reach this many bytes (roughly): the server refuses a
 * message beyond its readMaxBytes (64 MiB by default) by failing the whole stream, and a call
 * alone is bounded by the limits (1.5 MiB by default).
 */
const MESSAGE_BYTES = 4 * 1024 * 1024;

export interface KvPipelineOptions {
  /** The most calls one request message carries (default 1024; the rest go in the next one). */
  readonly maxCallsPerMessage?: number;
  /** An idle stream (no call for this long) is closed; the next call opens one (default 30 s). */
  readonly idleMs?: number;
}

/** Opens one Pipeline stream: its response messages for the request messages `requests`. */
export type PipelineOpener = (
  requests: AsyncIterable<PipelineRequest>,
  signal: AbortSignal,
) => AsyncIterable<PipelineResponse>;

/** One endpoint's pipeline: its current stream, or unary calls if the server has no Pipeline. */
export class KvPipeline {
  /** The KvService calls, over the pipeline where it can. */
  readonly stub: KvStub;
  private stream: PipeStream | undefined;
  private unsupported = false;
  private closed = false;
  readonly maxCallsPerMessage: number;
  readonly idleMs: number;

  constructor(
    private readonly unary: Client<typeof KvService>,
    readonly baseUrl: string,
    opts: KvPipelineOptions = {},
    /** How streams open (default: the Pipeline RPC through the unary calls' transport). */
    private readonly opener?: PipelineOpener,
  ) {
    this.maxCallsPerMessage = Math.max(1, opts.maxCallsPerMessage ?? 1024);
    this.idleMs = Math.max(1, opts.idleMs ?? 30_000);
    this.stub = {
      put: (req, call) => this.call("put", req as PutRequest, call),
      get: (req, call) => this.call("get", req as GetRequest, call),
      getMany: (req, call) => this.call("getMany", req as GetManyRequest, call),
      range: (req, call) => this.call("range", req as RangeRequest, call),
      delete: (req, call) => this.call("delete", req as DeleteRequest, call),
      compareAndSwap: (req, call) =>
        this.call("compareAndSwap", req as CompareAndSwapRequest, call),
      txn: (req, call) => this.call("txn", req as TxnRequest, call),
      compact: (req, call) => unary.compact(req as CompactRequest, call),
    };
  }

  /** Whether calls go over a stream (false once the server said it has no Pipeline). */
  get pipelined(): boolean {
    return !this.unsupported && !this.closed;
  }

  /** Ends the current stream; later calls go unary. */
  close(): void {
    this.closed = true;
    this.stream?.abort(new ConnectError("the client was closed", Code.Canceled));
    this.stream = undefined;
  }

  call<K extends Kind>(
    kind: K,
    req: Requests[K],
    call?: ConnectCallOptions,
  ): Promise<Responses[K]> {
    if (!this.pipelined) return this.unaryCall(kind, req, call);
    const hook = (call as AttemptCall | undefined)?.abortHook;
    if (hook ? hook.aborted : call?.signal?.aborted) return Promise.reject(cancelled());
    let s = this.stream;
    if (!s?.open) {
      s = new PipeStream(this);
      this.stream = s;
    }
    return s.call(kind, req, call);
  }

  /** The same call as a unary RPC. */
  unaryCall<K extends Kind>(
    kind: K,
    req: Requests[K],
    call: ConnectCallOptions | undefined,
  ): Promise<Responses[K]> {
    const fn = this.unary[kind] as unknown as (
      r: Requests[K],
      c?: ConnectCallOptions,
    ) => Promise<Responses[K]>;
    return fn(req, call);
  }

  /** Opens the Pipeline RPC with `requests` as its request side. */
  openStream(
    requests: AsyncIterable<PipelineRequest>,
    signal: AbortSignal,
  ): AsyncIterable<PipelineResponse> {
    return this.opener ? this.opener(requests, signal) : this.unary.pipeline(requests, { signal });
  }

  /** The server has no Pipeline: from now on, unary calls. */
  markUnsupported(): void {
    this.unsupported = true;
  }

  streamEnded(s: PipeStream): void {
    if (this.stream === s) this.stream = undefined;
  }
}

interface Pending {
  readonly kind: Kind;
  readonly req: Requests[Kind];
  readonly call: ConnectCallOptions | undefined;
  readonly resolve: (v: Responses[Kind]) => void;
  readonly reject: (e: unknown) => void;
  /** Stops watching the call's abort. */
  off: (() => void) | undefined;
  /** Roughly its encoded size. */
  readonly bytes: number;
  /** Written to the request side (the server may have it). */
  sent: boolean;
}

/** Roughly the encoded size of a call: exact enough to keep messages far below readMaxBytes. */
function approxBytes(kind: Kind, req: Requests[Kind]): number {
  switch (kind) {
    case "put": {
      const r = req as PutRequest;
      return 32 + r.key.length + r.value.length;
    }
    case "get":
      return 32 + (req as GetRequest).key.length;
    default:
      // Rarer calls with nested or repeated fields: measure.
      return 16 + toBinary(REQUEST_SCHEMAS[kind] as DescMessage, req).length;
  }
}

const REQUEST_SCHEMAS = {
  getMany: GetManyRequestSchema,
  range: RangeRequestSchema,
  delete: DeleteRequestSchema,
  compareAndSwap: CompareAndSwapRequestSchema,
  txn: TxnRequestSchema,
} as const;

/** One Pipeline stream: its unanswered calls by id, and what waits to be sent. */
class PipeStream {
  /** False once the stream broke, ended or went idle: new calls take a new stream. */
  open = true;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private outbox: number[] = [];
  private cancels: number[] = [];
  private flushScheduled = false;
  private readonly requests = new RequestQueue();
  private readonly ctl = new AbortController();
  /** Whether any answer arrived (then the server surely has Pipeline). */
  private answered = false;
  private lastActivity = performance.now();
  private readonly idleTimer: ReturnType<typeof setInterval>;

  constructor(private readonly owner: KvPipeline) {
    const responses = owner.openStream(this.requests, this.ctl.signal);
    void this.read(responses);
    this.idleTimer = setInterval(() => this.closeIfIdle(), owner.idleMs);
    (this.idleTimer as { unref?: () => void }).unref?.();
  }

  call<K extends Kind>(
    kind: K,
    req: Requests[K],
    call: ConnectCallOptions | undefined,
  ): Promise<Responses[K]> {
    noteAttempt(KvService.method[kind], call?.contextValues, this.owner.baseUrl);
    const id = this.nextId++;
    this.lastActivity = performance.now();
    return new Promise<Responses[K]>((resolve, reject) => {
      const p: Pending = {
        kind,
        req,
        call,
        resolve: resolve as (v: Responses[Kind]) => void,
        reject,
        off: undefined,
        bytes: approxBytes(kind, req),
        sent: false,
      };
      this.pending.set(id, p);
      const onAbort = (): void => this.abandon(id);
      const hook = (call as AttemptCall | undefined)?.abortHook;
      const signal = hook ? undefined : call?.signal;
      if (hook) {
        p.off = hook.onAbort(onAbort);
      } else if (signal) {
        signal.addEventListener("abort", onAbort, { once: true });
        p.off = () => signal.removeEventListener("abort", onAbort);
      }
      this.outbox.push(id);
      this.scheduleFlush();
    });
  }

  /** Fails every call with `e` and ends the stream. */
  abort(e: ConnectError): void {
    this.fail(e);
    this.ctl.abort(e);
  }

  /** The caller gave up (deadline, cancel): fail it now, and tell the server if it was sent. */
  private abandon(id: number): void {
    const p = this.settle(id);
    if (!p) return;
    if (p.sent) {
      this.cancels.push(id);
      this.scheduleFlush();
    }
    p.reject(cancelled());
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.off?.();
    return p;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After this turn's other calls (setImmediate runs once the current I/O callbacks and their
    // microtasks are done): one message for all of them.
    (globalThis.setImmediate ?? setTimeout)(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.open) return;
    const max = this.owner.maxCallsPerMessage;
    let calls: PipelineCall[] = [];
    let bytes = 0;
    for (const id of this.outbox) {
      const p = this.pending.get(id);
      if (!p) continue; // abandoned before it left
      p.sent = true;
      const timeoutMs = p.call?.timeoutMs;
      calls.push(
        create(PipelineCallSchema, {
          id: BigInt(id),
          timeoutMs: timeoutMs && timeoutMs > 0 ? BigInt(Math.ceil(timeoutMs)) : 0n,
          request: { case: p.kind, value: p.req } as PipelineCall["request"],
        }),
      );
      bytes += p.bytes;
      if (calls.length >= max || bytes >= MESSAGE_BYTES) {
        this.requests.push(create(PipelineRequestSchema, { calls }));
        calls = [];
        bytes = 0;
      }
    }
    this.outbox = [];
    const cancel = this.cancels.map((id) => BigInt(id));
    this.cancels = [];
    if (calls.length > 0 || cancel.length > 0) {
      this.requests.push(create(PipelineRequestSchema, { calls, cancel }));
    }
  }

  private async read(responses: AsyncIterable<PipelineResponse>): Promise<void> {
    let failure: unknown;
    try {
      for await (const res of responses) {
        this.answered = true;
        this.lastActivity = performance.now();
        for (const r of res.results) this.deliver(r);
      }
    } catch (e) {
      failure = e;
    }
    this.open = false;
    clearInterval(this.idleTimer);
    this.owner.streamEnded(this);
    this.requests.end();
    const ce =
      failure === undefined
        ? new ConnectError("the pipeline stream ended with calls unanswered", Code.Unavailable)
        : ConnectError.from(failure);
    if (ce.code === Code.Unimplemented && !this.answered && failure !== undefined) {
      // The server has no Pipeline (an older server): it refused the stream before running any
      // of its calls, so each one can safely go again, as a unary call.
      this.owner.markUnsupported();
      for (const id of [...this.pending.keys()]) {
        const p = this.settle(id) as Pending;
        this.owner.unaryCall(p.kind, p.req, p.call).then(p.resolve, p.reject);
      }
      return;
    }
    this.fail(streamBroke(ce));
  }

  private deliver(r: PipelineResult): void {
    const p = this.settle(Number(r.id));
    if (!p) return; // abandoned: its late answer is dropped
    const out = r.result;
    if (out.case === "error") {
      const { code, message, detail } = out.value;
      p.reject(
        new ConnectError(
          message,
          code in Code ? (code as Code) : Code.Unknown,
          undefined,
          detail ? [{ desc: ErrorDetailSchema, value: detail }] : undefined,
        ),
      );
    } else if (out.case === p.kind) {
      p.resolve(out.value as Responses[Kind]);
    } else {
      p.reject(
        new ConnectError(
          `the server answered a ${p.kind} call with ${out.case ?? "nothing"}`,
          Code.Internal,
        ),
      );
    }
  }

  /** Fails every unanswered call with `e`, as a broken unary call fails. */
  private fail(e: ConnectError): void {
    this.open = false;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(e);
    this.outbox = [];
    this.cancels = [];
  }

  /** No calls for idleMs: half-close, so the server ends the stream and frees its resources. */
  private closeIfIdle(): void {
    if (!this.open || this.pending.size > 0) return;
    if (performance.now() - this.lastActivity < this.owner.idleMs) return;
    this.open = false;
    this.owner.streamEnded(this);
    this.requests.end();
  }
}

/**
 * A stream's failure as each of its calls' failure. It speaks for the stream, not for any one
 * call: whatever its code or detail (a message the server refused, a reset), each call on it may
 * or may not have run, so it becomes a detail-less Unavailable, which the client reads as
 * "outcome unknown" for a write (retried with its session) and retries for a read. The cause is
 * kept, so a connection refused outright still reads as "not sent".
 */
function streamBroke(ce: ConnectError): ConnectError {
  if (ce.code === Code.Unavailable && ce.details.length === 0) return ce;
  return new ConnectError(
    `the pipeline stream broke: ${ce.rawMessage}`,
    Code.Unavailable,
    undefined,
    undefined,
    ce,
  );
}

function cancelled(): ConnectError {
  return new ConnectError("the call was cancelled", Code.Canceled);
}

/** The request side of a stream: messages pushed by flush(), pulled by connect. */
class RequestQueue implements AsyncIterable<PipelineRequest> {
  private readonly items: PipelineRequest[] = [];
  private ended = false;
  private waiter: ((r: IteratorResult<PipelineRequest>) => void) | undefined;

  push(m: PipelineRequest): void {
    if (this.ended) return;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w({ value: m, done: false });
    } else {
      this.items.push(m);
    }
  }

  end(): void {
    this.ended = true;
    this.items.length = 0;
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<PipelineRequest> {
    return {
      next: () => {
        const m = this.items.shift();
        if (m) return Promise.resolve({ value: m, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
      // connect aborts a request side by throwing into it (the stream failed).
      throw: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
