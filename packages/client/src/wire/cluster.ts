// ClusterService and MaintenanceService: requests and responses, both ways.
import { create } from "@bufbuild/protobuf";
import { SnapshotMetadataSchema } from "@d-engine/proto";
import {
  type AddLearnerRequest,
  AddLearnerRequestSchema,
  type DownloadSnapshotRequest,
  DownloadSnapshotRequestSchema,
  type LeaderResponse,
  LeaderResponseSchema,
  MemberSchema,
  type Member as PbMember,
  MemberRole as PbMemberRole,
  type StatusResponse,
  StatusResponseSchema,
  type TakeSnapshotResponse,
  TakeSnapshotResponseSchema,
} from "@d-engine/proto/api";
import { InvalidArgumentError } from "../errors.js";
import type {
  AddLearnerOptions,
  LeaderInfo,
  Member,
  MemberList,
  NodeStatus,
  SnapshotInfo,
} from "../types.js";
import { fromPositiveU64, fromU64, toU64 } from "./numbers.js";

export function toWireMember(m: Member): PbMember {
  return create(MemberSchema, {
    id: toU64(m.id, "member.id"),
    role: m.role === "voter" ? PbMemberRole.VOTER : PbMemberRole.LEARNER,
    clientAddress: m.clientAddress,
    peerAddress: m.peerAddress,
    readOnly: m.readOnly,
  });
}

export function fromWireMember(m: PbMember, field = "member"): Member {
  let role: Member["role"];
  if (m.role === PbMemberRole.VOTER) role = "voter";
  else if (m.role === PbMemberRole.LEARNER) role = "learner";
  else throw new InvalidArgumentError(`${field}.role: unknown MemberRole value ${m.role}`);
  return {
    id: fromU64(m.id, `${field}.id`),
    role,
    clientAddress: m.clientAddress,
    peerAddress: m.peerAddress,
    readOnly: m.readOnly,
  };
}

/** The members of any of MemberList, AddLearner, Promote and RemoveMember's answers. */
export function toWireMembers(list: MemberList): { members: PbMember[]; leaderId: bigint } {
  return { members: list.members.map(toWireMember), leaderId: toU64(list.leaderId, "leader_id") };
}

export function fromWireMembers(members: readonly PbMember[], leaderId = 0n): MemberList {
  return {
    members: members.map((m, i) => fromWireMember(m, `members[${i}]`)),
    leaderId: fromU64(leaderId, "leader_id"),
  };
}

/** host:port (or [v6]:port): what a node is reached at. */
export function checkAddress(address: string, field: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) > 65535) {
    throw new InvalidArgumentError(`${field} must be host:port, got ${JSON.stringify(address)}`);
  }
  return address;
}

export function toWireAddLearnerRequest(o: AddLearnerOptions): AddLearnerRequest {
  return create(AddLearnerRequestSchema, {
    id: toU64(o.id, "id"),
    clientAddress: o.clientAddress,
    peerAddress: o.peerAddress,
    readOnly: o.readOnly ?? false,
  });
}

export function fromWireAddLearnerRequest(req: AddLearnerRequest): AddLearnerOptions {
  return {
    id: fromPositiveU64(req.id, "id"),
    clientAddress: checkAddress(req.clientAddress, "client_address"),
    peerAddress: checkAddress(req.peerAddress, "peer_address"),
    readOnly: req.readOnly,
  };
}

/** Promote, RemoveMember: the member's id, required. */
export function fromWireMemberId(req: { id: bigint }): number {
  return fromPositiveU64(req.id, "id");
}

export function toWireLeaderResponse(l: LeaderInfo): LeaderResponse {
  return create(LeaderResponseSchema, {
    leaderId: toU64(l.leaderId, "leader_id"),
    leaderAddress: l.leaderAddress,
    term: toU64(l.term, "term"),
  });
}

export function fromWireLeaderResponse(res: LeaderResponse): LeaderInfo {
  return {
    leaderId: fromU64(res.leaderId, "leader_id"),
    leaderAddress: res.leaderAddress,
    term: fromU64(res.term, "term"),
  };
}

const ROLES: ReadonlySet<string> = new Set(["follower", "pre-candidate", "candidate", "leader"]);

export function toWireStatusResponse(s: NodeStatus): StatusResponse {
  const matchIndex: Record<string, bigint> = {};
  for (const [id, index] of Object.entries(s.matchIndex)) {
    matchIndex[String(toU64(Number(id), "match_index key"))] = toU64(index, `match_index[${id}]`);
  }
  return create(StatusResponseSchema, {
    id: toU64(s.id, "id"),
    clusterId: s.clusterId,
    role: s.role,
    term: toU64(s.term, "term"),
    leaderId: toU64(s.leaderId, "leader_id"),
    commitIndex: toU64(s.commitIndex, "commit_index"),
    appliedIndex: toU64(s.appliedIndex, "applied_index"),
    lastIndex: toU64(s.lastIndex, "last_index"),
    snapshotIndex: toU64(s.snapshotIndex, "snapshot_index"),
    revision: toU64(s.revision, "revision"),
    members: s.members.map(toWireMember),
    matchIndex,
  });
}

export function fromWireStatusResponse(res: StatusResponse): NodeStatus {
  if (!ROLES.has(res.role)) {
    throw new InvalidArgumentError(`role: unknown role ${JSON.stringify(res.role)}`);
  }
  const matchIndex: Record<number, number> = {};
  for (const [id, index] of Object.entries(res.matchIndex)) {
    matchIndex[fromU64(BigInt(id), "match_index key")] = fromU64(index, `match_index[${id}]`);
  }
  return {
    id: fromU64(res.id, "id"),
    clusterId: res.clusterId,
    role: res.role as NodeStatus["role"],
    term: fromU64(res.term, "term"),
    leaderId: fromU64(res.leaderId, "leader_id"),
    commitIndex: fromU64(res.commitIndex, "commit_index"),
    appliedIndex: fromU64(res.appliedIndex, "applied_index"),
    lastIndex: fromU64(res.lastIndex, "last_index"),
    snapshotIndex: fromU64(res.snapshotIndex, "snapshot_index"),
    revision: fromU64(res.revision, "revision"),
    members: res.members.map((m, i) => fromWireMember(m, `members[${i}]`)),
    matchIndex,
  };
}

// --- maintenance ---

export function toWireTakeSnapshotResponse(s: SnapshotInfo): TakeSnapshotResponse {
  return create(TakeSnapshotResponseSchema, {
    metadata: create(SnapshotMetadataSchema, {
      index: toU64(s.index, "metadata.index"),
      term: toU64(s.term, "metadata.term"),
    }),
    bytes: toU64(s.bytes, "bytes"),
  });
}

export function fromWireTakeSnapshotResponse(res: TakeSnapshotResponse): SnapshotInfo {
  return {
    index: fromU64(res.metadata?.index ?? 0n, "metadata.index"),
    term: fromU64(res.metadata?.term ?? 0n, "metadata.term"),
    bytes: fromU64(res.bytes, "bytes"),
  };
}

export function toWireDownloadSnapshotRequest(fresh: boolean | undefined): DownloadSnapshotRequest {
  return create(DownloadSnapshotRequestSchema, { fresh: fresh ?? false });
}
