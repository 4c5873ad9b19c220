// Test support: linearizability by its definition, by exhaustion, for histories of a handful of
// operations, and random such histories (arbitrary outputs, so often not linearizable). The
// tests hold the real search to these.

import type { Rng } from "@d-engine/core";
import type { KvInput, KvOutput, Operation } from "./history.js";
import { type KvState, kvStep } from "./model.js";

/**
 * Whether some order of a subset of the operations, containing every operation with a known
 * output and respecting real time, replays every output from `initial`.
 */
export function bruteForceLinearizable(
  ops: readonly Operation[],
  initial: KvState = null,
): boolean {
  const end = (o: Operation) =>
    o.output.kind === "unknown" ? Number.POSITIVE_INFINITY : o.complete;
  const extend = (left: readonly Operation[], state: KvState): boolean => {
    if (left.every((o) => o.output.kind === "unknown")) return true;
    return left.some((o) => {
      if (left.some((p) => p !== o && end(p) < o.invoke)) return false;
      const after = kvStep(state, o.input, o.output);
      return after !== undefined && extend(without(left, o), after);
    });
  };
  return extend(ops, initial);
}

function without(ops: readonly Operation[], op: Operation): Operation[] {
  return ops.filter((o) => o !== op);
}

/** Up to `maxOps` operations on key "k" over values "a" and "b", with random outputs. */
export function randomSmallHistory(rng: Rng, maxOps: number): Operation[] {
  const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)]!;
  const values = ["a", "b"];
  const ops: Operation[] = [];
  const n = 1 + rng.nextInt(maxOps);
  for (let id = 0; id < n; id++) {
    const invoke = rng.nextInt(10);
    const unknown = rng.nextInt(3) === 0;
    let input: KvInput;
    let output: KvOutput;
    switch (rng.nextInt(4)) {
      case 0:
        input = { op: "put", value: pick(values) };
        output = { kind: "ok" };
        break;
      case 1:
        input = { op: "get" };
        output = { kind: "value", value: pick([null, ...values]) };
        break;
      case 2:
        input = { op: "cas", expect: pick([null, ...values]), value: pick(values) };
        output = { kind: "swapped", ok: rng.nextInt(2) === 0 };
        break;
      default:
        input = { op: "delete" };
        output = { kind: "ok" };
    }
    ops.push({
      id,
      clientId: id,
      key: "k",
      input,
      output: unknown ? { kind: "unknown" } : output,
      invoke,
      complete: unknown ? Number.POSITIVE_INFINITY : invoke + rng.nextInt(5),
    });
  }
  return ops;
}
