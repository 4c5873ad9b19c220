// Opens a node's stores and state machine, bootstraps a new cluster member, and brings the state
// machine level with the newest snapshot after a crash.
//
// Bootstrap (as etcd does it): a new node of the initial cluster writes log entries 1..n at term 1,
// one ConfChange AddNode per initial voter (sorted by id, the address in the context), and the
// hard state {term 1, commit n}. Every initial node writes the same entries, so the membership
// lives in the log: a node that joins later learns it by replicating those entries, or from a
// snapshot once they are compacted. A joining node starts with nothing and waits for the leader.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type ConfState,
  confChange,
  EMPTY_CONF_STATE,
  type Entry,
  EntryType,
  encodeConfChange,
} from "@d-engine/core";
import {
  type KvStateMachine,
  lmdbStateMayBeTorn,
  MemoryVolume,
  openFileStores,
  openLmdbKv,
  openMemoryKv,
  openMemoryStores,
  RaftStorage,
  type RaftStores,
} from "@d-engine/storage";
import { coreLogger } from "../logger.js";
import { AddressBook, encodeMemberContext } from "../membership/address-book.js";
import type { MemberAddress, ResolvedOptions } from "../options.js";
import { decodeEnvelope } from "../snapshots/envelope.js";

export interface NodeStorage {
  readonly stores: RaftStores;
  readonly storage: RaftStorage;
  readonly kv: KvStateMachine;
  readonly book: AddressBook;
  /** The membership as of the newest snapshot (the core starts from it). */
  readonly confState: ConfState;
  /** The newest snapshot's index (0: none): the core replays committed entries after it. */
  readonly snapshotIndex: number;
  /** Whether this start bootstrapped a new cluster member. */
  readonly bootstrapped: boolean;
}

export class StartupError extends Error {
  override name = "StartupError";
}

/** The bootstrap entries of a new cluster: identical on every initial node. */
export function bootstrapEntries(members: readonly MemberAddress[]): Entry[] {
  return [...members]
    .sort((a, b) => a.id - b.id)
    .map((m, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange(confChange.addNode(m.id, encodeMemberContext({ address: m.address }))),
    }));
}

/** Whether the log holds nothing but a prefix of this cluster's bootstrap entries. */
function isBootstrapPrefix(stores: RaftStores, members: readonly MemberAddress[]): boolean {
  const want = bootstrapEntries(members);
  const last = stores.log.lastIndex();
  if (last === 0 || last > want.length || stores.log.firstIndex() !== 1) return false;
  const have = stores.log.entries(1, last + 1, Number.MAX_SAFE_INTEGER);
  return have.every((e, i) => {
    const w = want[i] as Entry;
    return e.term === w.term && e.type === w.type && sameBytes(e.data, w.data);
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function openNodeStorage(o: ResolvedOptions): Promise<NodeStorage> {
  let stores: RaftStores;
  let kv: KvStateMachine;
  if (o.dataDir) {
    await mkdir(o.dataDir, { recursive: true });
    stores = await openFileStores(join(o.dataDir, "raft"), { logger: coreLogger(o.logger) });
    try {
      kv = await openStateMachine(o, join(o.dataDir, "kv"));
    } catch (e) {
      await stores.close();
      throw e;
    }
  } else {
    stores = await openMemoryStores(o.memoryVolume ?? new MemoryVolume());
    kv = openMemoryKv();
  }
  try {
    return await prepare(o, stores, kv);
  } catch (e) {
    await stores.close().catch(() => undefined);
    await kv.close().catch(() => undefined);
    throw e;
  }
}

/**
 * The LMDB state machine, flushed in the background unless asked otherwise. One that may be torn
 * (written unsynced, then the machine restarted) is discarded: prepare() below rebuilds it from
 * the newest snapshot and the log, which the runtime applies again (the log holds every entry
 * after the newest snapshot, and every applied entry was durable in the log first).
 */
async function openStateMachine(o: ResolvedOptions, path: string): Promise<KvStateMachine> {
  const torn = lmdbStateMayBeTorn(path);
  if (torn !== undefined) {
    o.logger.warn(`${torn}; rebuilding it from the snapshot and the log`);
    await rm(path, { recursive: true, force: true });
  }
  return openLmdbKv({ path, sync: o.stateMachineFsync });
}

async function prepare(
  o: ResolvedOptions,
  stores: RaftStores,
  kv: KvStateMachine,
): Promise<NodeStorage> {
  const storage = await RaftStorage.open(stores);
  const snapMeta = stores.snapshots.latest()?.metadata;
  const hs = stores.hardState.load();
  if (snapMeta && hs.commit < snapMeta.index) {
    // A snapshot received from the leader is stored before the Ready that installs it persists
    // its hard state; a crash in between leaves a commit index behind the (reset) log's start,
    // which the core refuses. The snapshot holds committed state, so its index is committed.
    const term = Math.max(hs.term, snapMeta.term);
    await stores.hardState.save({
      term,
      vote: term === hs.term ? hs.vote : 0,
      commit: snapMeta.index,
    });
  }
  const isNew =
    stores.snapshots.latest() === undefined &&
    stores.hardState.load().term === 0 &&
    (stores.log.lastIndex() === 0 || (!o.join && isBootstrapPrefix(stores, o.initialMembers)));
  let bootstrapped = false;
  if (isNew && !o.join) {
    if (o.initialMembers.length === 0) {
      throw new StartupError(
        `node ${o.nodeId} has no state: give initialMembers to start a new cluster, or join to be added to one`,
      );
    }
    if (kv.appliedIndex() > 0) {
      throw new StartupError(
        `node ${o.nodeId}: the state machine has applied index ${kv.appliedIndex()} but the Raft log is empty (a data directory from another node?)`,
      );
    }
    const entries = bootstrapEntries(o.initialMembers);
    // A bootstrap cut short by a crash (entries written, hard state not) is done again.
    if (stores.log.lastIndex() > 0) await stores.log.truncateSuffix(stores.log.firstIndex());
    await stores.log.append(entries);
    await stores.hardState.save({ term: 1, vote: 0, commit: entries.length });
    bootstrapped = true;
  }
  const book = new AddressBook();
  let confState: ConfState = EMPTY_CONF_STATE;
  let snapshotIndex = 0;
  const latest = await stores.snapshots.loadLatest();
  if (latest && latest.metadata.index > 0) {
    const env = decodeEnvelope(latest.data, `snapshot at index ${latest.metadata.index}`);
    book.replace(env.members);
    // A crash between storing a received snapshot and restoring the state machine from it leaves
    // the state machine behind a log that no longer holds the entries in between.
    if (kv.appliedIndex() < latest.metadata.index) await kv.restore(env.kv);
    confState = latest.metadata.confState;
    snapshotIndex = latest.metadata.index;
  }
  const saved = stores.hardState.load();
  const applied = kv.appliedIndex();
  if (applied > Math.max(saved.commit, snapshotIndex)) {
    if (applied > stores.log.lastIndex()) {
      throw new StartupError(
        `node ${o.nodeId}: the state machine has applied index ${applied}, past the end of the log (${stores.log.lastIndex()}) and the commit index ${saved.commit}: the Raft stores and the state machine do not belong together`,
      );
    }
    // A commit index is saved without waiting for its fsync (RaftStorage.persistStep), so a
    // crash can leave it behind what was applied; only committed entries are ever applied.
    o.logger.info(`raising the commit index from ${saved.commit} to the applied index ${applied}`);
    await stores.hardState.save({ ...saved, commit: applied });
  }
  return { stores, storage, kv, book, confState, snapshotIndex, bootstrapped };
}
