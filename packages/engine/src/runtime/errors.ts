// Maps what the core and the state machine report into the client's typed errors.
import {
  CompactedError,
  DEngineError,
  InternalError,
  InvalidArgumentError,
  KvCommandError,
  MembershipError,
  type NotLeaderError,
  ResourceExhaustedError,
  UnavailableError,
} from "@d-engine/client";
import { isRaftError } from "@d-engine/core";
import { isKvError, type KvResponse } from "@d-engine/storage";

/** A state machine "error" answer as the client's error (every replica answered the same). */
export function kvAnswerError(r: Extract<KvResponse, { type: "error" }>): DEngineError {
  if (r.code === "compacted") return new CompactedError(r.message);
  return new KvCommandError(r.code, r.message);
}

/** What a local read threw (KvError), as the client's error. */
export function readError(e: unknown): unknown {
  if (e instanceof DEngineError) return e;
  if (isKvError(e, "compacted")) return new CompactedError(e.message);
  if (isKvError(e, "future-revision") || isKvError(e, "invalid-argument")) {
    return new InvalidArgumentError(e.message);
  }
  if (isKvError(e)) return new KvCommandError(e.code, e.message);
  return new InternalError(`read failed: ${(e as Error)?.message ?? String(e)}`, false);
}

/**
 * A proposal the core refused. Nothing was appended, so the outcome is known: it failed.
 * `leader` gives the id and client address of whoever leads now.
 */
export function proposeError(
  e: unknown,
  leader: (hint?: number) => NotLeaderError,
  retryAfterMs: number,
): unknown {
  if (isRaftError(e, "conf-change-rejected")) return new MembershipError(e.message);
  if (isRaftError(e, "proposal-dropped")) {
    if (e.message.includes("uncommitted bytes")) {
      return new ResourceExhaustedError(retryAfterMs, `the leader is saturated: ${e.message}`);
    }
    if (e.message.includes("transfer")) return leader(e.leaderHint);
    if (e.message.includes("removed")) {
      return new UnavailableError(`this node was removed from the cluster: ${e.message}`);
    }
    return leader(e.leaderHint);
  }
  return e;
}
