// Where a snapshot store keeps its encoded snapshots: a directory of named byte strings with an
// atomic "temporary then rename" install. Files for the file and LMDB backends, a Map for memory.

export interface BlobReader {
  /** Size of the blob. */
  readonly size: number;
  /** Reads [offset, offset + length) (clipped to the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface BlobTemp {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the blob durable and visible as `name`, replacing any blob of that name. */
  commit(name: string): Promise<void>;
  /** Drops it. */
  abort(): Promise<void>;
}

export interface BlobDir {
  /** Names the directory in errors. */
  readonly where: string;
  /** The location of a blob, for messages and SnapshotInfo. */
  location(name: string): string;
  /** Names of the installed blobs (temporaries are not listed). */
  list(): Promise<string[]>;
  /** Removes temporaries left by a crash. */
  cleanup(): Promise<void>;
  open(name: string): Promise<BlobReader>;
  create(): Promise<BlobTemp>;
  /** Removes a blob durably. */
  remove(name: string): Promise<void>;
}
