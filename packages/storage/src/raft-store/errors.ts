// Errors the stores report. Reads of compacted or missing indexes throw the core's RaftError
// ("compacted" / "unavailable"), because the core switches on those codes; everything else
// (damaged files, misuse, a store that failed a write) is a StorageError with a stable code and a
// message that names the file, the byte offset or the index range involved.

export type StorageErrorCode =
  /** A record, file or snapshot failed its checksum or does not parse. */
  | "corrupt"
  /** A log segment that must exist is missing (the log has a hole). */
  | "missing-segment"
  /** A snapshot's data does not match its checksum. */
  | "snapshot-checksum"
  /** No snapshot with the requested index exists. */
  | "snapshot-not-found"
  /** The caller broke a precondition (non-contiguous entries, compaction past the end...). */
  | "invalid-argument"
  /** The store was closed, or an earlier write failed and the store refuses further writes. */
  | "closed"
  /** A write or fsync failed. The store is unusable afterwards: what reached disk is unknown. */
  | "io";

export class StorageError extends Error {
  override name = "StorageError";
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    /** The file concerned, when there is one. */
    readonly path?: string,
    /** The byte offset in `path` where the problem was found. */
    readonly offset?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

/** A damaged log record or file. Refusing to start is the only safe answer: data may be lost. */
export function corruptAt(path: string, offset: number, what: string): StorageError {
  return new StorageError("corrupt", `${path} at byte offset ${offset}: ${what}`, path, offset);
}
