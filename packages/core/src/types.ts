// The data the Raft core consumes and produces. These mirror the protobuf messages in
// proto/dengine/v1/raft.proto field for field, so transport and storage can encode them.

/** A node's id. 0 means "none" (no leader, no vote). Ids are positive safe integers. */
export type NodeId = number;

/** The id that means "no node": no leader known, no vote cast. */
export const NONE: NodeId = 0;

export enum EntryType {
  /** Application data (or an empty no-op appended by a new leader). */
  Normal = 0,
  /** A membership change; `data` is a ConfChange encoded with `encodeConfChange`. */
  ConfChange = 1,
}

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before a node answers a vote or acknowledges entries. */
export interface HardState {
  readonly term: number;
  /** Whom this node voted for in `term`, or NONE. */
  readonly vote: NodeId;
  readonly commit: number;
}

/** The membership. In a joint configuration `votersOutgoing` is the old voter set. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Voters of the outgoing configuration while in joint consensus, else empty. */
  readonly votersOutgoing: readonly NodeId[];
  /** Voters of the outgoing configuration that become learners when the joint state is left. */
  readonly learnersNext: readonly NodeId[];
  /** Whether the joint configuration is left automatically once it is committed. */
  readonly autoLeave: boolean;
}

export interface SnapshotMetadata {
  /** The last log index the snapshot covers. */
  readonly index: number;
  /** The term of the entry at `index`. */
  readonly term: number;
  /** The membership as of `index`. */
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The state machine's snapshot, produced and consumed by the runtime; opaque to the core. */
  readonly data: Uint8Array;
}

export enum MessageType {
  // Local messages (except Prop): never sent over the network, only stepped into a node by itself.
  /** Start an election (the election timer fired, or `campaign()` was called). */
  Hup = 0,
  /** A leader's heartbeat timer fired. */
  Beat = 1,
  /** A client proposal; followers forward it to the leader (so it does travel the network). */
  Prop = 2,
  /** Reported by the runtime: a peer could not be reached. */
  Unreachable = 3,
  /** Reported by the runtime: a snapshot send to a peer finished or failed. */
  SnapStatus = 4,
  /** The leader's check-quorum timer fired. */
  CheckQuorum = 5,

  // Peer messages.
  App = 10,
  AppResp = 11,
  Vote = 12,
  VoteResp = 13,
  PreVote = 14,
  PreVoteResp = 15,
  Snap = 16,
  Heartbeat = 17,
  HeartbeatResp = 18,
  /** Ask the leader to transfer leadership to `from` (or, locally, to the node in `from`). */
  TransferLeader = 19,
  /** The leader tells a transfer target to campaign at once, ignoring leader stickiness. */
  TimeoutNow = 20,
  ReadIndex = 21,
  ReadIndexResp = 22,
}

/** Why a node campaigns; carried in vote requests' context. */
export enum CampaignType {
  PreElection = "pre-election",
  Election = "election",
  /** A leadership transfer: voters grant it even while they hear from a live leader. */
  Transfer = "transfer",
}

export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  /** App: term of the entry at `index`. Vote: term of the candidate's last entry. */
  readonly logTerm: number;
  /** App: index before `entries`. AppResp: the matched (or rejected) index. Vote: last index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot?: Snapshot;
  readonly reject: boolean;
  /** AppResp rejection: the follower's hint for where its log may match (see raft-log.ts). */
  readonly rejectHint: number;
  /** ReadIndex request context; vote requests carry "transfer" here for a transfer campaign. */
  readonly context: Uint8Array;
}

/** Builds a message with every field defaulted, so call sites name only what matters. */
export function message(fields: Partial<Message> & Pick<Message, "type">): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    ...fields,
  };
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Messages a node only ever steps into itself; they never come from the network. */
export function isLocalMessage(type: MessageType): boolean {
  return (
    type === MessageType.Hup ||
    type === MessageType.Beat ||
    type === MessageType.Unreachable ||
    type === MessageType.SnapStatus ||
    type === MessageType.CheckQuorum
  );
}

/** Responses answer a message; the others start something. */
export function isResponseMessage(type: MessageType): boolean {
  return (
    type === MessageType.AppResp ||
    type === MessageType.VoteResp ||
    type === MessageType.PreVoteResp ||
    type === MessageType.HeartbeatResp ||
    type === MessageType.ReadIndexResp ||
    type === MessageType.Unreachable
  );
}

export function isVoteResponse(t: MessageType): boolean {
  return t === MessageType.VoteResp || t === MessageType.PreVoteResp;
}

export function voteResponseType(type: MessageType): MessageType {
  return type === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  AddLearner = 2,
}

/** How a change of several voters is carried out. A single change uses no joint state. */
export enum ConfChangeTransition {
  /** Joint consensus if the change needs it, left automatically once committed. */
  Auto = 0,
  /** Joint consensus, left automatically once committed. */
  JointImplicit = 1,
  /** Joint consensus, left only when an empty ConfChange is proposed. */
  JointExplicit = 2,
}

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * A membership change. With no `changes` it asks to leave a joint configuration.
 * `context` is opaque to the core (the runtime may carry the new member's address in it).
 */
export interface ConfChange {
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  readonly context: Uint8Array;
}

export enum StateRole {
  Follower = "follower",
  PreCandidate = "pre-candidate",
  Candidate = "candidate",
  Leader = "leader",
}

/** Volatile state the runtime may want to observe (who leads, what role this node has). */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: StateRole;
}

/** The answer to a ReadIndex request: reads with this context may be served at `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

export const EMPTY_CONF_STATE: ConfState = {
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

/** Size of an entry for byte limits (payload plus a fixed overhead for index, term and type). */
export function entrySize(e: Entry): number {
  return e.data.length + 24;
}

export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += entrySize(e);
  return n;
}

/** Payload size only: what counts toward the uncommitted-bytes cap (empty entries are free). */
export function payloadSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += e.data.length;
  return n;
}
