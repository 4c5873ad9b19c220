// A write proposed through this node's log, answered with the state machine's response of the
// kind the caller expects: the one path every API (KV, leases) takes to turn an operation into
// an answer or a typed error.
import { type CallOptions, InternalError } from "@d-engine/client";
import type { KvOperation, KvResponse } from "@d-engine/storage";
import { kvAnswerError } from "../runtime/errors.js";
import type { NodeRuntime } from "../runtime/node-runtime.js";
import type { SessionOption } from "./types.js";

export type Answer<T extends KvResponse["type"]> = Extract<KvResponse, { type: T }>;

export async function proposeExpecting<T extends KvResponse["type"]>(
  rt: NodeRuntime,
  expect: T,
  op: KvOperation,
  opts: (CallOptions & SessionOption) | undefined,
): Promise<Answer<T>> {
  const r = await rt.writes.propose(
    { op, timeMs: Date.now(), ...(opts?.session ? { session: opts.session } : {}) },
    opts,
  );
  const res = r.response;
  if (res.type === "error") throw kvAnswerError(res);
  if (res.type !== expect) {
    throw new InternalError(
      `expected a ${expect} answer, the state machine gave ${res.type}`,
      false,
    );
  }
  return res as Answer<T>;
}
