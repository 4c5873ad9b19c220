// The sequential specification of one key of the key-value store: a register that is either
// absent (null) or holds a string. The checker asks whether some order of the operations on a
// key, replayed through `kvStep`, reproduces every output the clients saw.

import type { KvInput, KvOutput } from "./history.js";

/** One key's value; null when the key is absent. */
export type KvState = string | null;

/** Every key starts absent. */
export const initialKvState: KvState = null;

/**
 * Applies `input` to `state` and returns the next state, or undefined when a client could not
 * have seen `output` had the operation taken effect in `state`.
 *
 * The operations are deterministic, so an `unknown` output only hides which result the client
 * would have seen: the effect on the state is the same as if it had been observed.
 */
export function kvStep(state: KvState, input: KvInput, output: KvOutput): KvState | undefined {
  const unknown = output.kind === "unknown";
  switch (input.op) {
    case "put":
      return unknown || output.kind === "ok" ? input.value : undefined;
    case "delete":
      return unknown || output.kind === "ok" ? null : undefined;
    case "get":
      if (unknown) return state;
      return output.kind === "value" && output.value === state ? state : undefined;
    case "cas": {
      const swaps = state === input.expect;
      if (unknown) return swaps ? input.value : state;
      if (output.kind !== "swapped" || output.ok !== swaps) return undefined;
      return swaps ? input.value : state;
    }
  }
}

/** Whether `output` is a shape the operation can return at all (e.g. a put never returns a value). */
export function outputFits(input: KvInput, output: KvOutput): boolean {
  if (output.kind === "unknown") return true;
  switch (input.op) {
    case "put":
    case "delete":
      return output.kind === "ok";
    case "get":
      return output.kind === "value";
    case "cas":
      return output.kind === "swapped";
  }
}
