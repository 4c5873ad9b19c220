// Group commit: writes called while the previous group is being made durable wait and then go
// to disk together, as one write and one fsync. A write called when nothing is in flight starts
// a group on the next microtask, so everything called in the same synchronous turn (one Ready)
// shares it. Groups run one at a time, in call order.
import { StorageError } from "./errors.js";

interface Pending<Op> {
  readonly op: Op;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

export class GroupCommitQueue<Op> {
  private pending: Pending<Op>[] = [];
  private running = false;
  private failure: StorageError | undefined;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  constructor(
    /** Applies a group of writes in order and makes them durable. */
    private readonly commit: (ops: readonly Op[]) => Promise<void>,
    /** Names the store in errors ("file log /var/lib/x"). */
    private readonly what: string,
  ) {}

  /** Queues `op`; resolves once it (and everything queued before it) is durable. */
  push(op: Op): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const done = new Promise<void>((resolve, reject) => {
      this.pending.push({ op, resolve, reject });
    });
    if (!this.running) {
      this.running = true;
      this.idle = new Promise((resolve) => {
        this.markIdle = resolve;
      });
      queueMicrotask(() => void this.run());
    }
    return done;
  }

  /** The writes queued behind the group in flight (not yet handed to commit). */
  queued(): readonly Op[] {
    return this.pending.map((p) => p.op);
  }

  /** Resolves when nothing is queued or in flight; rejects if the store has failed. */
  async drain(): Promise<void> {
    await this.idle;
    if (this.failure) throw this.failure;
  }

  /** The error that stopped the queue, if any. */
  failed(): StorageError | undefined {
    return this.failure;
  }

  private async run(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        await this.commit(group.map((p) => p.op));
        for (const p of group) p.resolve();
      } catch (e) {
        // What reached the disk is unknown (an fsync error may even have dropped dirty pages),
        // so every later write is refused: the store must be reopened and recovered.
        this.failure =
          e instanceof StorageError
            ? e
            : new StorageError(
                "io",
                `${this.what}: write failed: ${String(e)}`,
                undefined,
                undefined,
                {
                  cause: e,
                },
              );
        for (const p of group) p.reject(this.failure);
        for (const p of this.pending) p.reject(this.failure);
        this.pending = [];
      }
    }
    this.running = false;
    this.markIdle();
  }
}
