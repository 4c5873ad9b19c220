// Write sessions: one sequence number per write, reused by every retry of that write, and the
// lowest sequence still incomplete, which lets the state machine forget older answers.
import type { WriteSession } from "../types.js";

/** How many writes whose outcome stayed unknown keep their answers pinned on the server. */
const MAX_PINNED = 256;

export class SessionAllocator {
  private next = 1;
  /** Sequences in flight, plus those pinned because their outcome is unknown. */
  private readonly incomplete = new Set<number>();
  /** Unknown-outcome sequences, oldest first (a retry with error.session may still come). */
  private readonly pinned: number[] = [];
  private low = 1;

  constructor(readonly clientId: string) {}

  /** A new write's sequence. */
  begin(): number {
    const seq = this.next++;
    this.incomplete.add(seq);
    return seq;
  }

  /** The session to send for `sequence` now (firstIncomplete refreshed, never past it). */
  session(sequence: number): WriteSession {
    while (this.low < this.next && !this.incomplete.has(this.low)) this.low++;
    return { clientId: this.clientId, sequence, firstIncomplete: Math.min(this.low, sequence) };
  }

  /** The write ended. If its outcome is unknown it stays incomplete, so a retry can still dedup. */
  end(sequence: number, outcomeUnknown: boolean): void {
    if (!outcomeUnknown) {
      this.incomplete.delete(sequence);
      return;
    }
    this.pinned.push(sequence);
    while (this.pinned.length > MAX_PINNED) this.incomplete.delete(this.pinned.shift() as number);
  }

  /** An explicit retry of a pinned sequence got a definite answer. */
  release(sequence: number): void {
    const i = this.pinned.indexOf(sequence);
    if (i >= 0) this.pinned.splice(i, 1);
    this.incomplete.delete(sequence);
  }
}

/** A random client id: crypto.randomUUID where available (Node, secure browser contexts). */
export function randomClientId(): string {
  const c = (
    globalThis as {
      crypto?: { randomUUID?: () => string; getRandomValues(b: Uint8Array): Uint8Array };
    }
  ).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c) c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
