// The leader as this node knows it, updated from each Ready's soft state, with listeners and
// waits ("until a leader is known", "until someone else leads").
import { TimeoutError, UnavailableError } from "@d-engine/client";

type Listener = (leaderId: number, term: number) => void;

interface Wait {
  readonly until: (leader: number) => boolean;
  readonly resolve: (leader: number) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class LeaderWatch {
  leader = 0;
  term = 0;
  private readonly listeners = new Set<Listener>();
  private waits: Wait[] = [];

  constructor(private readonly onListenerError: (e: unknown) => void) {}

  update(leader: number, term: number): void {
    const changed = leader !== this.leader;
    this.leader = leader;
    this.term = term;
    if (!changed) return;
    for (const l of this.listeners) {
      try {
        l(leader, term);
      } catch (e) {
        this.onListenerError(e);
      }
    }
    const still: Wait[] = [];
    for (const w of this.waits) {
      if (w.until(leader)) {
        clearTimeout(w.timer);
        w.resolve(leader);
      } else still.push(w);
    }
    this.waits = still;
  }

  listen(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Resolves with the leader once `until(leader)` holds (at once if it does now). */
  waitFor(until: (leader: number) => boolean, timeoutMs: number, what: string): Promise<number> {
    if (until(this.leader)) return Promise.resolve(this.leader);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waits = this.waits.filter((w) => w.timer !== timer);
        reject(new TimeoutError(`${what}: not within ${timeoutMs} ms`, false));
      }, timeoutMs);
      this.waits.push({ until, resolve, reject, timer });
    });
  }

  failAll(reason: string): void {
    const waits = this.waits;
    this.waits = [];
    for (const w of waits) {
      clearTimeout(w.timer);
      w.reject(new UnavailableError(reason));
    }
  }
}
