// Snapshots of the state machine, with what they cover. A snapshot is kept as one self-checking
// file (see snapshot/format.ts); the same bytes are what a leader streams to a follower in
// chunks, so the receiver verifies the very checksum the sender's disk held.
import type { SnapshotMetadata } from "@d-engine/core";

/** A stored snapshot, as listed (its data's checksum is verified when it is read). */
export interface SnapshotInfo {
  readonly metadata: SnapshotMetadata;
  /** Size of the state machine data. */
  readonly dataBytes: number;
  /** Size of the encoded snapshot (header + data + checksum): what chunks() streams. */
  readonly encodedBytes: number;
  /** The CRC32C of the data, from the header's trailer. */
  readonly dataCrc: number;
  /** Where it is stored (a file path, or a name for the memory backend). */
  readonly location: string;
}

export interface LoadedSnapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/** Receives an encoded snapshot in chunks; nothing becomes visible until finish() succeeds. */
export interface SnapshotWriter {
  /** Appends the next chunk of the encoded snapshot (the bytes chunks() produced, in order). */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Verifies the header and data checksums and the length, then installs the snapshot
   * atomically and durably. Throws StorageError "snapshot-checksum" or "corrupt" (and keeps
   * nothing) if the bytes do not check out.
   */
  finish(): Promise<SnapshotInfo>;
  /** Drops what was written. */
  abort(): Promise<void>;
}

export interface SnapshotStore {
  /**
   * Writes a snapshot atomically (temporary file, fsync, rename, fsync of the directory), then
   * deletes the oldest snapshots beyond the retention count. A snapshot with the same index
   * replaces the stored one.
   */
  save(metadata: SnapshotMetadata, data: Uint8Array): Promise<SnapshotInfo>;
  /** The stored snapshots, newest (highest index) first. */
  list(): readonly SnapshotInfo[];
  /** The newest snapshot's description, if any (synchronous: the core's snapshot() needs it). */
  latest(): SnapshotInfo | undefined;
  /** Reads and verifies the snapshot at `index`. StorageError "snapshot-not-found" / "-checksum". */
  load(index: number): Promise<LoadedSnapshot>;
  /** load() of the newest snapshot, or undefined if there is none. */
  loadLatest(): Promise<LoadedSnapshot | undefined>;
  /**
   * The encoded snapshot at `index` in chunks of at most `chunkBytes`, for transfer. The data's
   * checksum is verified as it streams: the last step throws if the stored bytes went bad.
   */
  chunks(index: number, chunkBytes?: number): AsyncIterable<Uint8Array>;
  /** A writer for a snapshot arriving in chunks (from another node's chunks()). */
  writer(): SnapshotWriter;
  close(): Promise<void>;
}
