// The node's event loop around the core (packages/core/README.md, "The runtime contract"). A timer
// ticks the core; messages from peers are stepped in as they arrive; client intents call the core
// directly. Each of these schedules a drain, and a drain takes Readies one at a time and hands
// each to the processor, which persists, sends and applies it; the loop then advances the core.
//
// Group commit: a drain starts on a microtask, so everything proposed by the code running now
// (a callback and the promise continuations it sets off: the 1,000 clients an apply answers
// propose again before the drain runs) lands in one Ready (one append, one fsync); what arrives
// while a Ready is being persisted lands in the next one. Only one Ready is ever in flight.
// Nothing busy-waits: with nothing ready the loop sleeps until the next tick, message or
// proposal. A microtask rather than setImmediate: the drain then starts in the same turn as the
// proposal or message that asked for it instead of the loop's next check phase; measured in
// docs/benchmarks.md (session 12), single-client writes 5-10% faster at no cost to batching.
//
// Deferred commit broadcast: when a drain leaves the leader with a commit index its followers
// have not been sent (RawNode.hasPendingCommitBroadcast), a short timer sends it unless a new
// proposal's appends carry it first (options.ts, raft.commitBroadcastDelayMs).
//
// Held applies: when a drain leaves a follower holding committed entries back
// (runtime/held-applies.ts), a timer queues a drain that applies them, after at most
// raft.followerApplyDelayMs. They are applied inside the drain, so between Readies and never
// alongside anything else the serial runs; an error there is fatal like any Ready's.
import { isRaftError, type Message, type RawNode, type Ready } from "@d-engine/core";
import type { EngineLogger } from "../logger.js";
import { Serial } from "./serial.js";

export interface ReadyProcessor {
  /** Persists, sends and applies one Ready (everything but advance()). */
  process(rd: Ready): Promise<void>;
  /** After each tick of the core. */
  afterTick(): void;
  /** After a drain found nothing more to do (snapshot policy, learner promotion...). */
  afterDrain(): void;
  /** Processing failed: the node cannot go on (storage failure, broken contract). */
  fatal(e: unknown): void;
  /** Whether committed entries are held back from applying (runtime/held-applies.ts). */
  holdsApplies(): boolean;
  /** Applies the entries held back, if any. */
  applyHeld(): void;
}

export class NodeLoop {
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  /** A drain is queued in `serial` and has not started yet. */
  private drainQueued = false;
  private stopped = false;
  /** While frozen the core takes no ticks and no messages: they wait, in order. */
  private frozen = false;
  private missedTicks = 0;
  private held: { from: number; messages: readonly Message[] }[] = [];
  private readonly serial = new Serial();
  /** Armed while a deferred commit-only broadcast waits (see the file header). */
  private commitTimer: NodeJS.Timeout | undefined;
  private readonly commitBroadcastDelayMs: number;
  /** Armed while the processor holds committed entries back (see the file header). */
  private applyTimer: NodeJS.Timeout | undefined;
  /** The apply timer fired: the next drain applies what is held first. */
  private applyDue = false;
  private readonly applyDelayMs: number;

  constructor(
    private readonly raw: RawNode,
    private readonly tickMs: number,
    private readonly processor: ReadyProcessor,
    private readonly logger: EngineLogger,
    opts: { readonly commitBroadcastDelayMs?: number; readonly applyDelayMs?: number } = {},
  ) {
    this.commitBroadcastDelayMs = opts.commitBroadcastDelayMs ?? 0;
    this.applyDelayMs = opts.applyDelayMs ?? 0;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.schedule();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stops ticking and draining; resolves once the Ready in flight (if any) is finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.disarmTimers();
    await this.serial.idle();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.frozen) {
      this.missedTicks++;
      return;
    }
    this.raw.tick();
    this.processor.afterTick();
    this.schedule();
  }

  /** Steps messages from peer `from` into the core. */
  step(from: number, messages: readonly Message[]): void {
    if (this.stopped) return;
    if (this.frozen) {
      this.held.push({ from, messages });
      return;
    }
    for (const m of messages) {
      try {
        this.raw.step(m);
      } catch (e) {
        // A late answer from a node that was removed, or a local-only type from a confused
        // peer: the contract says refuse it; it must not stop the node.
        if (isRaftError(e, "step-peer-not-found") || isRaftError(e, "step-local-message")) {
          this.logger.debug(`dropped a message from node ${from}: ${(e as Error).message}`);
          continue;
        }
        throw e;
      }
    }
    this.schedule();
  }

  /** Asks for a drain soon (once the code running now and its microtasks are done: group commit). */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.queueDrain();
    });
  }

  private queueDrain(): void {
    if (this.drainQueued || this.stopped) return;
    this.drainQueued = true;
    void this.serial.run(() => this.drain());
  }

  private async drain(): Promise<void> {
    this.drainQueued = false;
    try {
      if (this.applyDue) {
        this.applyDue = false;
        this.processor.applyHeld();
      }
      while (!this.stopped && this.raw.hasReady()) {
        const rd = this.raw.ready();
        await this.processor.process(rd);
        this.raw.advance();
      }
      if (!this.stopped) {
        this.armCommitBroadcast();
        this.armApplyTimer();
        this.processor.afterDrain();
      }
    } catch (e) {
      this.stopped = true;
      if (this.timer) clearInterval(this.timer);
      this.disarmTimers();
      this.processor.fatal(e);
    }
  }

  /** Starts the commit broadcast timer if a deferred commit-only broadcast waits. */
  private armCommitBroadcast(): void {
    if (this.commitTimer !== undefined || !this.raw.hasPendingCommitBroadcast()) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      // Frozen: the core takes nothing now; the drain after unfreezing arms the timer again.
      if (this.stopped || this.frozen) return;
      if (this.raw.broadcastCommit()) this.schedule();
    }, this.commitBroadcastDelayMs);
  }

  /** Starts the apply timer if the processor holds committed entries back. */
  private armApplyTimer(): void {
    if (this.applyTimer !== undefined || !this.processor.holdsApplies()) return;
    this.applyTimer = setTimeout(() => {
      this.applyTimer = undefined;
      if (this.stopped) return;
      this.applyDue = true;
      this.queueDrain();
    }, this.applyDelayMs);
  }

  private disarmTimers(): void {
    if (this.commitTimer !== undefined) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    if (this.applyTimer !== undefined) clearTimeout(this.applyTimer);
    this.applyTimer = undefined;
  }

  /**
   * Runs `fn` between Readies (none is in flight meanwhile). With `freeze`, the core also takes
   * no ticks and no messages while it runs: they are held and replayed afterwards in order, so
   * what `fn` checked about the core's state still holds when it steps something in.
   */
  exclusive<T>(fn: () => Promise<T>, opts: { freeze?: boolean } = {}): Promise<T> {
    return this.serial.run(async () => {
      if (this.stopped) throw new Error("the node is stopped");
      if (opts.freeze) this.frozen = true;
      try {
        return await fn();
      } finally {
        if (opts.freeze) this.unfreeze();
        this.schedule();
      }
    });
  }

  private unfreeze(): void {
    this.frozen = false;
    const held = this.held;
    const ticks = this.missedTicks;
    this.held = [];
    this.missedTicks = 0;
    for (let i = 0; i < ticks; i++) this.tick();
    for (const h of held) this.step(h.from, h.messages);
  }
}
