// Test support: random client histories that are linearizable by construction. Every operation
// gets a linearization point strictly inside its [invoke, complete] interval; the operations are
// then executed sequentially in that order against the model, which fixes their outputs. Clients
// overlap at random, so the checker has real concurrency to untangle.

import type { Rng } from "@d-engine/core";
import type { KvInput, KvOutput, Operation } from "./history.js";
import { kvStep } from "./model.js";

export interface RandomHistoryOptions {
  readonly ops: number;
  readonly keys: number;
  /** Number of clients, each running one operation at a time: the concurrency. */
  readonly clients: number;
  /**
   * Fraction of operations whose client never learns the outcome; half of those take effect
   * at their linearization point, half never do. Default 0.
   */
  readonly unknownRate?: number;
  /** Id of the first operation (ids are consecutive). Default 0. */
  readonly firstId?: number;
}

interface Slot {
  readonly id: number;
  readonly clientId: number;
  readonly invoke: number;
  readonly point: number;
  readonly complete: number;
}

/** A linearizable history; operations sorted by id, ids in invocation order per client. */
export function randomLinearizableHistory(rng: Rng, options: RandomHistoryOptions): Operation[] {
  const { clients } = options;
  const firstId = options.firstId ?? 0;
  const unknownPercent = Math.round((options.unknownRate ?? 0) * 100);
  // Time is ticks * clients + client: no two clients share an instant, so the linearization
  // points are totally ordered and every interval is non-empty.
  const freeAt = new Array<number>(clients).fill(0);
  const slots: Slot[] = [];
  for (let n = 0; n < options.ops; n++) {
    let c = 0;
    for (let i = 1; i < clients; i++) if (freeAt[i]! < freeAt[c]!) c = i;
    const start = freeAt[c]! + rng.nextInt(3);
    const point = start + 1 + rng.nextInt(4);
    const end = point + 1 + rng.nextInt(4);
    freeAt[c] = end;
    const at = (tick: number) => tick * clients + c;
    slots.push({
      id: firstId + n,
      clientId: c,
      invoke: at(start),
      point: at(point),
      complete: at(end),
    });
  }

  const state = new Map<string, string | null>();
  const written = new Map<string, string[]>();
  const ops: Operation[] = [];
  for (const slot of [...slots].sort((a, b) => a.point - b.point)) {
    const key = `k${rng.nextInt(options.keys)}`;
    const current = state.get(key) ?? null;
    const input = randomInput(rng, key, current, written.get(key) ?? [], slot.id);
    const lost = rng.nextInt(100) < unknownPercent;
    const takesEffect = !lost || rng.nextInt(2) === 0;
    const next = kvStep(current, input, { kind: "unknown" });
    if (next === undefined) throw new Error("unreachable: an unknown output fits every state");
    if (takesEffect) {
      state.set(key, next);
      if (next !== null && next !== current) written.set(key, [...(written.get(key) ?? []), next]);
    }
    ops.push({
      id: slot.id,
      clientId: slot.clientId,
      key,
      input,
      output: lost ? { kind: "unknown" } : outputOf(input, current),
      invoke: slot.invoke,
      complete: lost ? Number.POSITIVE_INFINITY : slot.complete,
    });
  }
  return ops.sort((a, b) => a.id - b.id);
}

function randomInput(
  rng: Rng,
  key: string,
  current: string | null,
  written: readonly string[],
  id: number,
): KvInput {
  const roll = rng.nextInt(100);
  if (roll < 35) return { op: "put", value: `${key}:${id}` };
  if (roll < 70) return { op: "get" };
  if (roll < 90) {
    // Half the time expect the current value, so some swaps succeed.
    const pool = [null, ...written];
    const expect = rng.nextInt(2) === 0 ? current : (pool[rng.nextInt(pool.length)] ?? null);
    return { op: "cas", expect, value: `${key}:${id}` };
  }
  return { op: "delete" };
}

function outputOf(input: KvInput, state: string | null): KvOutput {
  switch (input.op) {
    case "get":
      return { kind: "value", value: state };
    case "cas":
      return { kind: "swapped", ok: state === input.expect };
    default:
      return { kind: "ok" };
  }
}
