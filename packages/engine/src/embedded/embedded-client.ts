// The in-process client of an EmbeddedEngine: the same API as the network client. Reads are
// served by the local node at every consistency (eventual at once; lease on the leader from its
// lease; linearizable through a ReadIndex that the core forwards to the leader when this node
// follows), with no RPC. Writes and membership changes go to the local node when it leads and are
// forwarded to the leader (forwardTo) otherwise. Every write carries this client's session
// (client id, sequence), so a write retried after a leader change applies once.
import { randomUUID } from "node:crypto";
import {
  type AddLearnerOptions,
  type Bytes,
  type CallOptions,
  type ClusterApi,
  type CompareAndSwapResult,
  type DEngineClient,
  type DeleteOptions,
  type DeleteResult,
  type GetManyResult,
  type KeyValue,
  type LeaderInfo,
  type LeaseApi,
  type MaintenanceApi,
  type MemberList,
  type NodeStatus,
  NotLeaderError,
  type PutOptions,
  type PutResult,
  type RangeOptions,
  type RangeResult,
  type ReadOptions,
  type Txn,
  type TxnResult,
  UnavailableError,
  type Watcher,
  type WatchOptions,
} from "@d-engine/client";
import type { NodeApi, WriteSession } from "../api/types.js";
import type { MemberAddress } from "../options.js";
import type { RaftNode } from "../raft-node.js";
import { embeddedLeaseApi } from "./embedded-leases.js";

export type ForwardTo = (leader: MemberAddress) => DEngineClient | undefined;

export class EmbeddedClient implements DEngineClient {
  readonly cluster: ClusterApi;
  readonly maintenance: MaintenanceApi;
  readonly leases: LeaseApi;
  private readonly clientId = randomUUID();
  private sequence = 0;
  private readonly inFlight = new Set<number>();
  /** No sequence below this is in flight (moves up lazily: O(1) amortized per write). */
  private lowInFlight = 1;
  private closed = false;

  constructor(
    private readonly node: RaftNode,
    private readonly forwardTo: ForwardTo | undefined,
    private readonly waitForLeaderMs: number,
  ) {
    const local = node.api;
    this.cluster = {
      members: (o) => this.local().cluster.members(o),
      leader: (o?: CallOptions): Promise<LeaderInfo> => this.local().cluster.leader(o),
      status: (o): Promise<NodeStatus> => this.local().cluster.status(o),
      addLearner: (o: AddLearnerOptions): Promise<MemberList> =>
        this.route((c) => c.cluster.addLearner(o)),
      promote: (id, o) => this.route((c) => c.cluster.promote(id, o)),
      removeMember: (id, o) => this.route((c) => c.cluster.removeMember(id, o)),
      transferLeader: (to, o) => this.route((c) => c.cluster.transferLeader(to, o)),
      watchMembers: (o?: CallOptions) => this.local().cluster.watchMembers(o),
    };
    this.maintenance = local.maintenance;
    this.leases = embeddedLeaseApi({
      write: (call) => this.write(call),
      route: (call) => this.route(call),
    });
  }

  private local(): NodeApi {
    if (this.closed) throw new UnavailableError("the client is closed");
    return this.node.api;
  }

  // ---- reads: in-process

  get(key: Bytes, opts?: ReadOptions): Promise<KeyValue | undefined> {
    return this.local().get(key, opts);
  }

  getMany(keys: readonly Bytes[], opts?: ReadOptions): Promise<GetManyResult> {
    return this.local().getMany(keys, opts);
  }

  range(opts: RangeOptions): Promise<RangeResult> {
    return this.local().range(opts);
  }

  prefix(
    prefix: Bytes,
    opts?: Omit<RangeOptions, "prefix" | "key" | "rangeEnd">,
  ): Promise<RangeResult> {
    return this.local().prefix(prefix, opts);
  }

  /**
   * Watches this node's own state machine, in-process: a follower applies the same events in
   * the same order, so the watch needs no leader (and survives leader changes untouched).
   */
  watch(opts: WatchOptions): Watcher {
    return this.local().watch(opts);
  }

  // ---- writes: to the leader, with this client's session

  put(key: Bytes, value: Bytes, opts: PutOptions = {}): Promise<PutResult> {
    return this.write((c, session) => c.put(key, value, { ...opts, session }));
  }

  delete(key: Bytes, opts: DeleteOptions = {}): Promise<DeleteResult> {
    return this.write((c, session) => c.delete(key, { ...opts, session }));
  }

  compareAndSwap(
    key: Bytes,
    expected: Bytes | undefined,
    value: Bytes,
    opts: CallOptions = {},
  ): Promise<CompareAndSwapResult> {
    return this.write((c, session) => c.compareAndSwap(key, expected, value, { ...opts, session }));
  }

  txn(txn: Txn, opts: CallOptions = {}): Promise<TxnResult> {
    return this.write((c, session) => c.txn(txn, { ...opts, session }));
  }

  compact(revision: number, opts: CallOptions = {}): Promise<{ readonly revision: number }> {
    return this.write((c, session) => c.compact(revision, { ...opts, session }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async write<T>(call: (c: NodeApi, session: WriteSession) => Promise<T>): Promise<T> {
    this.local();
    const sequence = ++this.sequence;
    this.inFlight.add(sequence);
    // Math.min over the whole set was O(writes in flight) per write: 1,000 in flight showed.
    while (this.lowInFlight < sequence && !this.inFlight.has(this.lowInFlight)) this.lowInFlight++;
    const session: WriteSession = {
      clientId: this.clientId,
      sequence,
      firstIncomplete: this.lowInFlight,
    };
    try {
      return await this.route((c) => call(c, session));
    } finally {
      this.inFlight.delete(sequence);
    }
  }

  /**
   * Runs `call` on the leader: this node if it leads, else the forwardTo client. A NotLeaderError
   * (leadership moved meanwhile; nothing was applied) is retried a few times.
   */
  private async route<T>(call: (c: NodeApi) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.local();
      const leader = this.node.leader();
      try {
        if (leader.id === this.node.id) return await call(this.node.api);
        if (leader.id === 0) {
          await this.node.waitForLeader(this.waitForLeaderMs);
          continue;
        }
        const target = this.forwardTo?.(leader);
        if (!target) throw new NotLeaderError(leader.id, leader.address);
        // A network client ignores the session option; another node's api (NodeApi) uses it.
        return await call(target as NodeApi);
      } catch (e) {
        if (!(e instanceof NotLeaderError) || attempt >= 3 || !this.forwardTo) throw e;
        if (e.leaderId === 0) await this.node.waitForLeader(this.waitForLeaderMs);
      }
    }
  }
}
