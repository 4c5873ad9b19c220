// A closed-loop client of the key-value store: one operation at a time over a few keys. Writes
// carry (client id, sequence) and are retried with the same sequence until answered, so the
// state machine applies them at most once; an operation whose outcome the client never learns is
// recorded as unknown. Every answered operation enters the history the linearizability checker
// reads, with the simulated times of its invocation and its answer.
import type { KvInput, KvOutput, Operation } from "../linearizability/history.js";
import type { EventQueue } from "./event-queue.js";
import type { ClientResponse, Packet } from "./protocol.js";
import type { SimRng } from "./rng.js";
import { type Trace, TraceKind } from "./trace.js";

export interface ClientEnv {
  readonly queue: EventQueue;
  readonly trace: Trace;
  send(from: number, to: number, packet: Packet): void;
  /** Nodes a client may contact (it does not know which are up). */
  members(): readonly number[];
  /** Adds an operation to the history; `seq` is its write sequence (0 for reads). */
  record(op: Operation, seq: number): void;
  nextOpId(): number;
}

export interface ClientConfig {
  readonly keys: readonly string[];
  readonly thinkMaxUs: number;
  readonly timeoutUs: number;
  /** Weights of get, put, cas, delete. */
  readonly mix: readonly [number, number, number, number];
  /** Attempts before the client gives up on an operation (outcome unknown) and moves on. */
  readonly giveUpAfter: number;
}

interface Current {
  readonly opId: number;
  readonly key: string;
  readonly input: KvInput;
  readonly seq: number;
  readonly invoke: number;
  attempt: number;
  /** A write attempt may have reached the log (so the outcome is unknown until answered). */
  sent: boolean;
}

export class SimClient {
  /** No new operations once set (the heal phase lets the current one finish). */
  draining = false;
  readonly stats = { completed: 0, unknown: 0, attempts: 0 };
  private seq = 0;
  private current: Current | undefined;
  private target = 0;
  private readonly lastSeen = new Map<string, string | null>();

  constructor(
    /** Network address (distinct from node ids). */
    readonly address: number,
    /** Id in the history and in write sessions. */
    readonly clientId: number,
    private readonly env: ClientEnv,
    private readonly cfg: ClientConfig,
    private readonly rng: SimRng,
  ) {}

  get busy(): boolean {
    return this.current !== undefined;
  }

  start(): void {
    this.env.queue.after(this.rng.range(0, this.cfg.thinkMaxUs), () => this.next());
  }

  private next(): void {
    if (this.draining || this.current) return;
    const key = this.rng.pick(this.cfg.keys);
    const op = this.rng.weighted<KvInput["op"]>([
      ["get", this.cfg.mix[0]],
      ["put", this.cfg.mix[1]],
      ["cas", this.cfg.mix[2]],
      ["delete", this.cfg.mix[3]],
    ]);
    let input: KvInput;
    let seq = 0;
    if (op === "get") input = { op: "get" };
    else {
      seq = ++this.seq;
      const value = `${this.clientId}.${seq}`;
      if (op === "put") input = { op: "put", value };
      else if (op === "delete") input = { op: "delete" };
      else {
        const seen = this.lastSeen.get(key);
        const expect = seen !== undefined && this.rng.chance(0.8) ? seen : null;
        input = { op: "cas", expect, value };
      }
    }
    this.current = {
      opId: this.env.nextOpId(),
      key,
      input,
      seq,
      invoke: this.env.queue.now,
      attempt: 0,
      sent: false,
    };
    this.send();
  }

  private send(): void {
    const c = this.current;
    if (!c) return;
    if (c.attempt >= this.cfg.giveUpAfter && !this.draining) {
      // Like a client with a deadline: the write's fate is unknown; carry on with the next.
      this.current = undefined;
      this.recordUnknown(c);
      this.env.queue.after(this.rng.range(0, this.cfg.thinkMaxUs), () => this.next());
      return;
    }
    c.attempt++;
    this.stats.attempts++;
    const members = this.env.members();
    if (members.length === 0) return;
    if (!members.includes(this.target) || (c.attempt > 1 && this.rng.chance(0.3))) {
      this.target = this.rng.pick(members);
    }
    if (c.input.op !== "get") c.sent = true;
    const attempt = c.attempt;
    this.env.send(this.address, this.target, {
      kind: "request",
      req: { client: this.clientId, opId: c.opId, attempt, seq: c.seq, key: c.key, input: c.input },
    });
    this.env.queue.after(this.cfg.timeoutUs, () => {
      if (this.current === c && c.attempt === attempt) {
        // No answer: try elsewhere with the same sequence.
        this.target = this.rng.pick(this.env.members());
        this.send();
      }
    });
  }

  onResponse(resp: ClientResponse): void {
    const c = this.current;
    if (!c || resp.opId !== c.opId) return;
    if (resp.kind === "retry") {
      if (resp.attempt !== c.attempt) return;
      if (resp.hint > 0 && this.env.members().includes(resp.hint)) this.target = resp.hint;
      else this.target = this.rng.pick(this.env.members());
      const attempt = c.attempt;
      this.env.queue.after(this.rng.range(1000, 10_000), () => {
        if (this.current === c && c.attempt === attempt) this.send();
      });
      return;
    }
    this.finish(c, resp.output);
  }

  private finish(c: Current, output: KvOutput): void {
    this.current = undefined;
    this.stats.completed++;
    const input = c.input;
    if (output.kind === "value") this.lastSeen.set(c.key, output.value);
    else if (input.op === "cas" && output.kind === "swapped" && output.ok) {
      this.lastSeen.set(c.key, input.value);
    } else if (input.op === "put") this.lastSeen.set(c.key, input.value);
    else if (input.op === "delete") this.lastSeen.set(c.key, null);
    const now = this.env.queue.now;
    this.env.trace.add(
      TraceKind.response,
      now,
      [this.clientId, c.opId, c.attempt],
      () =>
        `client ${this.clientId} op ${c.opId} ${c.input.op} ${c.key} -> ${JSON.stringify(output)}`,
    );
    this.env.record(
      {
        id: c.opId,
        clientId: this.clientId,
        key: c.key,
        input: c.input,
        output,
        invoke: c.invoke,
        complete: now,
      },
      c.seq,
    );
    this.env.queue.after(this.rng.range(0, this.cfg.thinkMaxUs), () => this.next());
  }

  /**
   * The run is over: an unanswered write may or may not have taken effect, so it is recorded as
   * unknown; an unanswered read changed nothing and is left out.
   */
  abandon(): void {
    const c = this.current;
    this.current = undefined;
    if (c) this.recordUnknown(c);
  }

  private recordUnknown(c: Current): void {
    if (!c.sent) return;
    this.stats.unknown++;
    this.env.record(
      {
        id: c.opId,
        clientId: this.clientId,
        key: c.key,
        input: c.input,
        output: { kind: "unknown" },
        invoke: c.invoke,
        complete: Number.POSITIVE_INFINITY,
      },
      c.seq,
    );
  }
}
