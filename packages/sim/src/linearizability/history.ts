// A client history: what each client asked, when, and what it saw. The simulator records it;
// the checker decides whether some order of the operations, consistent with real time, explains
// every output.

/** The key-value register operations the simulator's clients run. */
export type KvInput =
  | { readonly op: "put"; readonly value: string }
  | { readonly op: "get" }
  | { readonly op: "cas"; readonly expect: string | null; readonly value: string }
  | { readonly op: "delete" };

/**
 * What the client saw. `get` returns the value (null if absent); `cas` whether it swapped; put and
 * delete return ok. `unknown` means the client never learned the outcome (timeout, crash): the
 * operation may or may not have taken effect, at any time after its invocation.
 */
export type KvOutput =
  | { readonly kind: "value"; readonly value: string | null }
  | { readonly kind: "swapped"; readonly ok: boolean }
  | { readonly kind: "ok" }
  | { readonly kind: "unknown" };

export interface Operation {
  /** Unique within a history. */
  readonly id: number;
  readonly clientId: number;
  readonly key: string;
  readonly input: KvInput;
  readonly output: KvOutput;
  /** Simulated time the client invoked the operation. */
  readonly invoke: number;
  /** Simulated time the client saw the answer; Infinity when the outcome is unknown. */
  readonly complete: number;
}

export type History = readonly Operation[];
