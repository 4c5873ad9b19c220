// Taking snapshots (by policy, on demand, or because a follower needs a newer one) and installing
// the one a Ready carries. A snapshot is the envelope (members + KV state) at the applied index,
// stored, and then the log is compacted behind it, keeping `keepEntries`.
//
// Taking one has three steps. What it holds is captured between Readies (loop.exclusive): the
// index, its term, the membership and the state machine's bytes. A state machine whose snapshot
// stream reads one read transaction (LMDB: kv.isolatedSnapshots) only opens it there, at the
// applied index; its bytes are then read in 64 KiB chunks with a turn of the event loop between
// chunks, while Readies go on (inside the write benchmark, reading a 2.8 MB snapshot took 200-330
// ms on each node, all three at once at each 10,000th entry: docs/benchmarks.md, session 12).
// Writing and fsyncing it, the slow part (tens of MB), runs while Readies go on: a node saving a
// snapshot still sends heartbeats and appends, answers its leader and applies. (Issue 7's full
// benchmark lost its leader while all three nodes saved a 30 MB snapshot with the loop stopped.)
// The snapshot store takes saves in any order and keeps the newest first, so a newer snapshot
// installed meanwhile stays the latest.
// The log is compacted between Readies again, and only if this snapshot is still the newest and
// the log still holds its index with the same term (an install may have reset the log).
import { UnavailableError } from "@d-engine/client";
import type { Snapshot, SnapshotMetadata } from "@d-engine/core";
import type { KvStateMachine, RaftStorage, RaftStores, SnapshotInfo } from "@d-engine/storage";
import type { EngineLogger } from "../logger.js";
import type { NodeLoop } from "../loop/node-loop.js";
import type { MemberRecord } from "../membership/address-book.js";
import type { Membership } from "../membership/membership.js";
import type { ResolvedOptions } from "../options.js";
import { decodeEnvelope, encodeEnvelope } from "./envelope.js";

export interface SnapshotDeps {
  readonly stores: RaftStores;
  readonly storage: RaftStorage;
  readonly kv: KvStateMachine;
  readonly membership: Membership;
  readonly loop: NodeLoop;
  readonly logger: EngineLogger;
  readonly policy: ResolvedOptions["snapshots"];
  /** The last index applied by the runtime (state machine and membership). */
  applied(): number;
}

/**
 * Chunk size of an isolated snapshot stream: each chunk is encoded in one go between two turns
 * of the event loop (1 MiB chunks took about 70-110 ms each inside the write benchmark).
 */
const ISOLATED_FRAME_BYTES = 64 * 1024;

/** What a snapshot holds, captured between Readies: its bytes, or a stream still to read. */
type Captured =
  | { readonly metadata: SnapshotMetadata; readonly data: Uint8Array }
  | {
      readonly metadata: SnapshotMetadata;
      readonly members: readonly MemberRecord[];
      readonly first: IteratorResult<Uint8Array>;
      readonly rest: Iterator<Uint8Array>;
    };

/** An isolated snapshot stream's chunks, read with a turn of the event loop between chunks. */
async function readAll(c: {
  readonly first: IteratorResult<Uint8Array>;
  readonly rest: Iterator<Uint8Array>;
}): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let done = false;
  try {
    for (let r = c.first; !r.done; r = c.rest.next()) {
      chunks.push(r.value);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    done = true;
    return chunks;
  } finally {
    // Stopped early (an error): release the read transaction.
    if (!done) c.rest.return?.();
  }
}

export class SnapshotManager {
  private creating: Promise<SnapshotInfo> | undefined;
  private lastTakenAt = 0;

  constructor(private readonly d: SnapshotDeps) {}

  /** The log-size policy, checked after each drain of the loop. */
  maybeAuto(): void {
    const p = this.d.policy;
    if (p.policy !== "log-size" || this.creating) return;
    const latest = this.d.stores.snapshots.latest()?.metadata.index ?? 0;
    if (this.d.applied() - latest < p.maxLogEntries) return;
    if (Date.now() - this.lastTakenAt < p.cooldownMs) return;
    this.background("log-size policy");
  }

  /** A follower needs a snapshot newer than the stored one (see EngineLogStorage). */
  wanted(): void {
    if (!this.creating) this.background("a follower needs a newer snapshot");
  }

  private background(why: string): void {
    this.take().catch((e: unknown) => {
      if (this.d.loop.isStopped) return;
      this.d.logger.warn(`snapshot (${why}) failed: ${(e as Error).message}`);
    });
  }

  /** Takes a snapshot at the applied index (or returns the stored one if it is as new). */
  take(): Promise<SnapshotInfo> {
    this.creating ??= this.create().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  private async create(): Promise<SnapshotInfo> {
    const { stores, storage } = this.d;
    const captured = await this.d.loop.exclusive(async () => this.capture());
    if ("stored" in captured) return captured.stored;
    const { metadata } = captured;
    const data =
      "data" in captured
        ? captured.data
        : encodeEnvelope(captured.members, await readAll(captured));
    const info = await stores.snapshots.save(metadata, data);
    await this.d.loop.exclusive(() =>
      storage.compactBehindSnapshot(metadata, this.d.policy.keepEntries),
    );
    this.lastTakenAt = Date.now();
    this.d.logger.info(`snapshot taken at index ${metadata.index}`, {
      index: metadata.index,
      bytes: info.encodedBytes,
      firstLogIndex: stores.log.firstIndex(),
    });
    return info;
  }

  /** Between Readies: what a snapshot at the applied index holds (or the stored one, as new). */
  private capture(): { readonly stored: SnapshotInfo } | Captured {
    const { stores, kv, membership } = this.d;
    const index = this.d.applied();
    if (kv.appliedIndex() !== index) {
      // After a restart the log is replayed from the newest snapshot; until the replay passes
      // the state machine's own applied index, the two disagree and no snapshot can be taken.
      throw new UnavailableError(
        `the node is replaying its log (at ${index}, state machine at ${kv.appliedIndex()}); try again shortly`,
      );
    }
    const latest = stores.snapshots.latest();
    if (latest && latest.metadata.index >= index) return { stored: latest };
    if (index === 0) throw new UnavailableError("nothing has been applied yet");
    const metadata = { index, term: stores.log.term(index), confState: membership.confState };
    const members = membership.book.list();
    if (!kv.isolatedSnapshots) return { metadata, data: encodeEnvelope(members, kv.snapshot()) };
    // The first chunk opens the read transaction: the rest reads this index's state whatever is
    // applied meanwhile.
    const rest = kv.snapshot(ISOLATED_FRAME_BYTES)[Symbol.iterator]();
    return { metadata, members, first: rest.next(), rest };
  }

  /**
   * Installs the snapshot of a Ready (a follower caught up by snapshot): the log is reset to it,
   * and the state machine and the address book are restored from its data. Returns its index.
   */
  async install(snap: Snapshot): Promise<number> {
    const { stores, storage, kv, membership } = this.d;
    const meta = snap.metadata;
    let data = snap.data;
    if (data.length > 0) {
      await storage.installSnapshot(meta, data);
    } else {
      // Streamed beforehand into the snapshot store (snapshot-inbox.ts); the message carried
      // only the metadata.
      const latest = stores.snapshots.latest()?.metadata;
      if (!latest || latest.index !== meta.index || latest.term !== meta.term) {
        throw new Error(
          `the core installs snapshot ${meta.index}/${meta.term} but the store's newest is ${latest?.index}/${latest?.term}`,
        );
      }
      await storage.afterSnapshotStored(meta);
      data = (await stores.snapshots.load(meta.index)).data;
    }
    const env = decodeEnvelope(data, `snapshot at index ${meta.index}`);
    await kv.restore(env.kv);
    membership.restore(meta.confState, env.members, meta.index);
    this.d.logger.info(`installed snapshot at index ${meta.index} (term ${meta.term})`);
    return meta.index;
  }
}
