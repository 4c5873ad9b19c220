// Errors the core reports. Each has a stable `code` the runtime can switch on and a message that
// says what went wrong in words.
import type { NodeId } from "./types.js";

export type RaftErrorCode =
  /** The requested index was compacted away (only a snapshot covers it). */
  | "compacted"
  /** The requested index is past the end of the log. */
  | "unavailable"
  /** The storage cannot produce a snapshot right now; the leader will try again later. */
  | "snapshot-temporarily-unavailable"
  /** The snapshot is older than what the storage already has. */
  | "snapshot-out-of-date"
  /** A proposal was refused (no leader, transfer in progress, size cap, not a member...). */
  | "proposal-dropped"
  /** A read request was refused (no leader known). */
  | "read-dropped"
  /** A membership change was refused (one is already pending, or it is malformed). */
  | "conf-change-rejected"
  /** A local-only message type was stepped in from the network. */
  | "step-local-message"
  /** A response came from a node that is not a member. */
  | "step-peer-not-found"
  | "invalid-config"
  /** The runtime broke the Ready/advance contract. */
  | "contract-violation"
  /** The persisted state contradicts itself (for example commit past the last index). */
  | "corrupt-state";

export class RaftError extends Error {
  override name = "RaftError";
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    /** For dropped proposals and reads: the leader the caller may retry at, if known. */
    readonly leaderHint?: NodeId,
  ) {
    super(message);
  }
}

export function isRaftError(e: unknown, code?: RaftErrorCode): e is RaftError {
  return e instanceof RaftError && (code === undefined || e.code === code);
}
