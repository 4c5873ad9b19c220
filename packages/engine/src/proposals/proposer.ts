// Proposing as the leader: refuse early (stopping, not the leader, too many writes pending),
// hand the entry to the core, and wait for it to apply (write-waiters.ts). Everything proposed in
// one turn of the event loop goes out in one Ready (the loop drains on setImmediate).
import { InternalError, type NotLeaderError, ResourceExhaustedError } from "@d-engine/client";
import type { ConfChange, ProposeResult, RawNode } from "@d-engine/core";
import { type ApplyResult, encodeKvCommand, type KvCommand } from "@d-engine/storage";
import type { NodeLoop } from "../loop/node-loop.js";
import { failSpan, tracer } from "../metrics/tracing.js";
import type { ResolvedOptions } from "../options.js";
import { proposeError } from "../runtime/errors.js";
import { WriteWaiters } from "./write-waiters.js";

export interface CallDeadline {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ProposerDeps {
  readonly raw: RawNode;
  readonly loop: NodeLoop;
  readonly opts: ResolvedOptions;
  checkAccepting(): void;
  isLeader(): boolean;
  notLeader(hint?: number): NotLeaderError;
}

export class Proposer {
  readonly waiters = new WriteWaiters();

  constructor(private readonly d: ProposerDeps) {}

  /** Proposes a KV command and resolves with its answer once it applied. */
  async propose(cmd: KvCommand, opts: CallDeadline = {}): Promise<ApplyResult> {
    // One span from the proposal to its answer (a no-op span unless an OpenTelemetry SDK is set).
    const span = tracer.startSpan("dengine.propose");
    try {
      if (span.isRecording()) span.setAttribute("dengine.op", cmd.op.type);
      const result = await this.proposeEntry(() => this.d.raw.propose(encodeKvCommand(cmd)), opts);
      if (!result) throw new InternalError("the state machine gave no answer", true);
      return result;
    } catch (e) {
      failSpan(span, e);
      throw e;
    } finally {
      span.end();
    }
  }

  /** Proposes a membership change; resolves once it applied. */
  async proposeConfChange(cc: ConfChange, opts: CallDeadline = {}): Promise<void> {
    await this.proposeEntry(() => this.d.raw.proposeConfChange(cc), opts);
  }

  private proposeEntry(
    propose: () => ProposeResult,
    opts: CallDeadline,
  ): Promise<ApplyResult | undefined> {
    const { opts: o } = this.d;
    this.d.checkAccepting();
    if (!this.d.isLeader()) throw this.d.notLeader();
    if (this.waiters.size >= o.maxPendingWrites) {
      throw new ResourceExhaustedError(
        o.retryAfterMs,
        `${this.waiters.size} writes are pending (backpressure.maxPendingWrites is ${o.maxPendingWrites})`,
      );
    }
    let r: ProposeResult;
    try {
      r = propose();
    } catch (e) {
      throw proposeError(e, (hint) => this.d.notLeader(hint), o.retryAfterMs);
    }
    if (r.kind !== "appended") throw this.d.notLeader(r.to);
    const deadline = Date.now() + (opts.timeoutMs ?? o.requestTimeoutMs);
    const done = this.waiters.add(r.index, r.term, deadline, opts.signal);
    this.d.loop.schedule();
    return done;
  }
}
