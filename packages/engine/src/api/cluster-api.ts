// Membership, leadership and status, served by this node. Changes are proposed by the leader
// (a follower answers NotLeaderError) and resolve once applied here.
import {
  type AddLearnerOptions,
  type CallOptions,
  type ClusterApi,
  InvalidArgumentError,
  type LeaderInfo,
  type MemberList,
  MembershipError,
  type NodeStatus,
} from "@d-engine/client";
import { confChange } from "@d-engine/core";
import { encodeMemberContext } from "../membership/address-book.js";
import type { NodeRuntime } from "../runtime/node-runtime.js";
import { watchMembers } from "../watch/member-watch.js";
import { requireCount } from "./validate.js";

export class ClusterApiImpl implements ClusterApi {
  constructor(private readonly rt: NodeRuntime) {}

  private list(): MemberList {
    return { members: this.rt.membership.members(), leaderId: this.rt.raw.leader };
  }

  async members(opts: CallOptions & { readonly linearizable?: boolean } = {}): Promise<MemberList> {
    this.rt.checkAccepting();
    if (opts.linearizable) return this.rt.reader.readAt("linearizable", () => this.list(), opts);
    return this.list();
  }

  async addLearner(o: AddLearnerOptions): Promise<MemberList> {
    requireCount(o.id, "id", 1);
    if (!o.peerAddress)
      throw new InvalidArgumentError("addLearner needs the new node's peerAddress");
    if (this.rt.membership.isMember(o.id)) {
      throw new MembershipError(`node ${o.id} is already a member`);
    }
    const ctx = encodeMemberContext({
      address: o.peerAddress,
      clientAddress: o.clientAddress || o.peerAddress,
      readOnly: o.readOnly ?? false,
    });
    await this.rt.writes.proposeConfChange(confChange.addLearner(o.id, ctx), o);
    return this.list();
  }

  async promote(id: number, opts: CallOptions = {}): Promise<MemberList> {
    requireCount(id, "id", 1);
    if (!this.rt.membership.isLearner(id)) {
      throw new MembershipError(`node ${id} is not a learner`);
    }
    await this.rt.writes.proposeConfChange(confChange.addNode(id), opts);
    return this.list();
  }

  async removeMember(id: number, opts: CallOptions = {}): Promise<MemberList> {
    requireCount(id, "id", 1);
    if (!this.rt.membership.isMember(id)) throw new MembershipError(`node ${id} is not a member`);
    await this.rt.writes.proposeConfChange(confChange.removeNode(id), opts);
    return this.list();
  }

  async transferLeader(
    to?: number,
    opts: CallOptions = {},
  ): Promise<{ readonly leaderId: number }> {
    const rt = this.rt;
    rt.checkAccepting();
    if (!rt.isLeader()) throw rt.notLeader();
    const target = to ?? rt.transferTarget();
    if (!target) throw new MembershipError("there is no other voter to hand leadership to");
    if (target === rt.id) return { leaderId: rt.id };
    if (!rt.membership.isVoter(target)) {
      throw new MembershipError(`node ${target} is not a voter; only voters can lead`);
    }
    rt.raw.transferLeader(target);
    rt.loop.schedule();
    const timeout = opts.timeoutMs ?? rt.opts.tickMs * rt.opts.electionTicks * 3;
    const leaderId = await rt.leader.waitFor(
      (l) => l !== 0 && l !== rt.id,
      timeout,
      `leadership transfer to node ${target}`,
    );
    return { leaderId };
  }

  /** This node's members at once, then after each membership change it applies. */
  watchMembers(opts: CallOptions = {}): AsyncIterable<MemberList> {
    this.rt.checkAccepting();
    return watchMembers(
      {
        list: () => this.list(),
        onChange: (l) => this.rt.membership.onChange(l),
        onClose: (l) => this.rt.watches.onClose(l),
      },
      opts,
    );
  }

  async leader(): Promise<LeaderInfo> {
    this.rt.checkAccepting();
    const id = this.rt.raw.leader;
    return {
      leaderId: id,
      leaderAddress: id ? this.rt.membership.clientAddress(id) : "",
      term: this.rt.raw.raft.term,
    };
  }

  async status(): Promise<NodeStatus> {
    return nodeStatus(this.rt);
  }
}

export function nodeStatus(rt: NodeRuntime): NodeStatus {
  const st = rt.raw.status();
  const matchIndex: Record<number, number> = {};
  for (const [id, pr] of st.progress ?? []) matchIndex[id] = pr.match;
  return {
    id: rt.id,
    clusterId: rt.opts.clusterId,
    role: st.softState.role,
    term: st.hardState.term,
    leaderId: st.softState.lead,
    commitIndex: st.hardState.commit,
    appliedIndex: rt.applied,
    lastIndex: st.lastIndex,
    snapshotIndex: rt.ns.stores.snapshots.latest()?.metadata.index ?? 0,
    revision: rt.ns.kv.revision(),
    members: rt.membership.members(),
    matchIndex,
  };
}
