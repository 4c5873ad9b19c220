// Errors of the KV state machine. Command failures are answers (KvResponse type "error"), so
// every replica reports the same; KvError is what local reads and the backends throw.
import type { KvErrorCode } from "./types.js";

export type KvFailure =
  | KvErrorCode
  /** The runtime applied an index at or below the applied index. */
  | "index-regression"
  /** A snapshot (stream or file) is malformed or fails its checksum. */
  | "corrupt-snapshot"
  /** Stored state is unreadable or of an unknown format. */
  | "corrupt-state"
  /** The state machine was closed, or failed during an apply and must be reopened. */
  | "closed";

export class KvError extends Error {
  override name = "KvError";
  constructor(
    readonly code: KvFailure,
    message: string,
  ) {
    super(message);
  }
}

export function isKvError(e: unknown, code?: KvFailure): e is KvError {
  return e instanceof KvError && (code === undefined || e.code === code);
}

export function compactedError(requested: number, compacted: number): KvError {
  return new KvError(
    "compacted",
    `revision ${requested} has been compacted (the compacted revision is ${compacted})`,
  );
}

export function futureRevisionError(requested: number, current: number): KvError {
  return new KvError(
    "future-revision",
    `revision ${requested} is a future revision (the current revision is ${current})`,
  );
}

export function invalidArgument(message: string): KvError {
  return new KvError("invalid-argument", message);
}
