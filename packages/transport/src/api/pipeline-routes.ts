// KvService.Pipeline: many key-value calls over one bidirectional stream. connect-node spends
// about 130-165 µs of server CPU per unary call but about 45 µs per stream message, and many
// entries per message cost little more than one (ANCHORS.md); so a client sends the calls it
// made in one turn as one message, and this handler answers with the results that became ready in
// one turn as one message.
//
// Each call runs through the same function as its unary RPC (kv-calls.ts: same validation, same
// limits, same API call, same wire conversion), concurrently with the others, and its result
// leaves in completion order, tagged with the call's id. A failure becomes an error result with
// the same code, message and ErrorDetail the unary RPC would have failed with, so the client
// raises the same typed error; a malformed call (no request, a repeated id, a bad field) gets an
// error result naming what is wrong, and the stream goes on serving. A stream has at most
// `maxInFlight` calls unanswered: beyond that it stops reading requests, and HTTP/2 flow control
// holds the client back (backpressure). When the stream ends or breaks, its calls still running
// are aborted, as a cancelled unary call's are.
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { type CallOptions, InvalidArgumentError, UnavailableError } from "@d-engine/client";
import { fromU64, toConnectError } from "@d-engine/client/wire";
import {
  ErrorDetailSchema,
  type PipelineCall,
  PipelineErrorSchema,
  type PipelineRequest,
  type PipelineResult,
} from "@d-engine/proto/api";
import { AbortControllerPool } from "./abort-pool.js";
import type { KvCalls } from "./kv-calls.js";

/** Default bound on one stream's unanswered calls. */
export const PIPELINE_MAX_IN_FLIGHT = 4096;
/** The most idle AbortControllers one stream keeps for its next calls. */
const MAX_IDLE_CONTROLLERS = 1024;
/** The most results one response message carries (the rest go in the next one). */
const MAX_RESULTS_PER_MESSAGE = 1024;

export interface PipelineHandlerOptions {
  /** Calls one stream may have unanswered at once (default PIPELINE_MAX_IN_FLIGHT). */
  readonly maxInFlight?: number;
  /** The server is closing: answer new calls "unavailable", finish the started ones, end. */
  readonly shutdownSignal?: AbortSignal;
}

type Outcome = PipelineResult["result"];
/** One call's result as the response message carries it. */
export type ResultInit = { id: bigint; result: Outcome };

/** The Pipeline handler over `calls`. */
export function pipelineHandler(
  calls: KvCalls,
  opts: PipelineHandlerOptions = {},
): (
  reqs: AsyncIterable<PipelineRequest>,
  ctx: HandlerContext,
) => AsyncIterable<{
  results: ResultInit[];
}> {
  return (reqs, ctx) => pipelineResponses(calls, opts, reqs, ctx.signal);
}

/**
 * One Pipeline stream's response messages for its request messages `reqs`: what both the
 * connect-es handler above and the hand-written HTTP/2 path (pipeline-server.ts) serve. `signal`
 * aborts when the stream ends or breaks.
 */
export function pipelineResponses(
  calls: KvCalls,
  opts: PipelineHandlerOptions,
  reqs: AsyncIterable<PipelineRequest>,
  signal: AbortSignal,
): AsyncGenerator<{ results: ResultInit[] }> {
  const maxInFlight = Math.max(1, opts.maxInFlight ?? PIPELINE_MAX_IN_FLIGHT);
  return new PipelineStream(calls, maxInFlight, signal, opts.shutdownSignal).serve(reqs);
}

/** One Pipeline stream's state: its running calls and its results not yet sent. */
class PipelineStream {
  /** Calls started and not yet finished, by id, with what aborts each. */
  private readonly running = new Map<bigint, AbortController>();
  /** Where those controllers come from and go back to (abort-pool.ts says why). */
  private readonly controllers: AbortControllerPool;
  /** Finished calls' results waiting for the next response message. */
  private ready: ResultInit[] = [];
  /** Calls accepted and not yet sent back (running + ready): what maxInFlight bounds. */
  private unanswered = 0;
  private readerDone = false;
  private readerError: unknown;
  private stopped = false;
  private shuttingDown = false;
  private wakeWriter: (() => void) | undefined;
  private wakeReader: (() => void) | undefined;
  private flushScheduled = false;

  constructor(
    private readonly calls: KvCalls,
    private readonly maxInFlight: number,
    private readonly signal: AbortSignal,
    private readonly shutdownSignal: AbortSignal | undefined,
  ) {
    this.controllers = new AbortControllerPool(Math.min(maxInFlight, MAX_IDLE_CONTROLLERS));
  }

  async *serve(reqs: AsyncIterable<PipelineRequest>): AsyncGenerator<{ results: ResultInit[] }> {
    const onAbort = (): void => this.stop();
    const onShutdown = (): void => {
      this.shuttingDown = true;
      this.wakeWriter?.();
    };
    this.signal.addEventListener("abort", onAbort, { once: true });
    this.shutdownSignal?.addEventListener("abort", onShutdown, { once: true });
    if (this.shutdownSignal?.aborted) this.shuttingDown = true;
    void this.read(reqs);
    try {
      for (;;) {
        if (this.ready.length === 0) {
          if (this.readerError !== undefined) throw this.readerError;
          // The client half-closed (or the server is closing) and every call is answered.
          if ((this.readerDone || this.shuttingDown) && this.unanswered === 0) return;
          if (this.stopped) return;
          await new Promise<void>((resolve) => {
            this.wakeWriter = resolve;
          });
          this.wakeWriter = undefined;
          continue;
        }
        let batch = this.ready;
        if (batch.length > MAX_RESULTS_PER_MESSAGE) {
          batch = this.ready.splice(0, MAX_RESULTS_PER_MESSAGE);
        } else {
          this.ready = [];
        }
        yield { results: batch };
        this.unanswered -= batch.length;
        this.wakeReader?.();
      }
    } finally {
      this.signal.removeEventListener("abort", onAbort);
      this.shutdownSignal?.removeEventListener("abort", onShutdown);
      // The stream ended or broke: nobody will read the answers of calls still running.
      this.stop();
    }
  }

  private async read(reqs: AsyncIterable<PipelineRequest>): Promise<void> {
    try {
      for await (const req of reqs) {
        if (this.stopped) break;
        for (const id of req.cancel) this.running.get(id)?.abort(cancelledByClient());
        for (const call of req.calls) this.start(call);
        // Backpressure: read no further until the client has taken some answers.
        while (this.unanswered >= this.maxInFlight && !this.stopped) {
          await new Promise<void>((resolve) => {
            this.wakeReader = resolve;
          });
          this.wakeReader = undefined;
        }
      }
    } catch (e) {
      // The request side broke (a reset, a malformed message): the stream fails with it.
      this.readerError = e ?? new Error("the request stream failed");
    } finally {
      this.readerDone = true;
      this.wakeWriter?.();
    }
  }

  private start(call: PipelineCall): void {
    const id = call.id;
    this.unanswered++;
    if (this.shuttingDown) {
      // Not started, so not applied: the client may retry it anywhere.
      this.fail(id, new UnavailableError("the node is shutting down; the call was not started"));
      return;
    }
    if (this.running.has(id)) {
      this.fail(id, new InvalidArgumentError(`pipeline call id ${id} is already in flight`));
      return;
    }
    let timeoutMs: number;
    try {
      timeoutMs = fromU64(call.timeoutMs, "timeout_ms");
    } catch (e) {
      this.fail(id, e);
      return;
    }
    const ctl = this.controllers.take();
    this.running.set(id, ctl);
    // The deadline travels to the API as a unary call's does (the API enforces it); the signal
    // ends the call when the client cancels it or the stream goes away.
    const opts: CallOptions =
      timeoutMs > 0 ? { signal: ctl.signal, timeoutMs } : { signal: ctl.signal };
    this.run(call, opts).then(
      (result) => this.finish(id, ctl, result),
      (e) => this.finish(id, ctl, errorOutcome(e)),
    );
  }

  /** The call's unary function, its response tagged with the call's kind. */
  private async run(call: PipelineCall, opts: CallOptions): Promise<Outcome> {
    const r = call.request;
    switch (r.case) {
      case "put":
        return { case: r.case, value: await this.calls.put(r.value, opts) };
      case "get":
        return { case: r.case, value: await this.calls.get(r.value, opts) };
      case "getMany":
        return { case: r.case, value: await this.calls.getMany(r.value, opts) };
      case "range":
        return { case: r.case, value: await this.calls.range(r.value, opts) };
      case "delete":
        return { case: r.case, value: await this.calls.delete(r.value, opts) };
      case "compareAndSwap":
        return { case: r.case, value: await this.calls.compareAndSwap(r.value, opts) };
      case "txn":
        return { case: r.case, value: await this.calls.txn(r.value, opts) };
      default:
        throw new InvalidArgumentError(
          `pipeline call ${call.id} carries no request (or one this server does not know)`,
        );
    }
  }

  private finish(id: bigint, ctl: AbortController, result: Outcome): void {
    if (this.running.get(id) === ctl) this.running.delete(id);
    this.controllers.give(ctl);
    this.push({ id, result });
  }

  private fail(id: bigint, e: unknown): void {
    this.push({ id, result: errorOutcome(e) });
  }

  private push(r: ResultInit): void {
    if (this.stopped) return;
    this.ready.push(r);
    // Wake the writer once per turn, after this turn's other results are in: one message for
    // everything that finished together.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.wakeWriter?.();
      });
    }
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const ctl of this.running.values()) ctl.abort(new Error("the pipeline stream ended"));
    this.running.clear();
    this.ready = [];
    this.wakeReader?.();
    this.wakeWriter?.();
  }
}

function cancelledByClient(): Error {
  return new Error("the client cancelled the call");
}

/** What the unary RPC would have failed with: the same code, message and ErrorDetail. */
function errorOutcome(e: unknown): Outcome {
  const ce = toConnectError(e);
  const [detail] = ce.findDetails(ErrorDetailSchema);
  return {
    case: "error",
    value: create(PipelineErrorSchema, {
      code: ce.code,
      message: ce.rawMessage,
      ...(detail ? { detail } : {}),
    }),
  };
}
