// Renders what the core produces (messages, entries, Readies, membership) as stable text for the
// scenario files. Conventions, so every line reads the same way:
//   - a log position is term/index: "2/7" is the entry at index 7 written in term 2;
//   - a message is "from->to Type term=T ..." followed only by the fields that type uses;
//     any other field that is set is still printed (never hidden), so the text is unambiguous;
//   - payloads are JSON strings: "" is an empty entry (a new leader's no-op).

import {
  CampaignType,
  type ConfChange,
  ConfChangeTransition,
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type Snapshot,
} from "../../src/index.js";
import { fromAscii } from "../../src/testing/bytes.js";

const q = (b: Uint8Array): string => JSON.stringify(fromAscii(b));
const ids = (xs: readonly number[]): string => `(${xs.join(" ")})`;

/** "v4 l5 r2": AddNode 4, AddLearner 5, RemoveNode 2, the syntax of propose-conf-change. */
export function formatConfChange(cc: ConfChange): string {
  const parts = cc.changes.map((c) => {
    const letter =
      c.type === ConfChangeType.AddNode ? "v" : c.type === ConfChangeType.AddLearner ? "l" : "r";
    return `${letter}${c.nodeId}`;
  });
  if (parts.length === 0 && cc.transition === ConfChangeTransition.Auto) parts.push("leave-joint");
  if (cc.transition !== ConfChangeTransition.Auto) {
    parts.push(`transition=${transitionName(cc.transition)}`);
  }
  if (cc.context.length > 0) parts.push(`ctx=${q(cc.context)}`);
  return parts.join(" ");
}

export function transitionName(t: ConfChangeTransition): string {
  switch (t) {
    case ConfChangeTransition.Auto:
      return "auto";
    case ConfChangeTransition.JointImplicit:
      return "implicit";
    case ConfChangeTransition.JointExplicit:
      return "explicit";
  }
}

export function formatEntry(e: Entry): string {
  const at = `${e.term}/${e.index}`;
  if (e.type === EntryType.Normal) return `${at} EntryNormal ${q(e.data)}`;
  // An empty conf change is how a leader leaves a joint configuration automatically.
  if (e.data.length === 0) return `${at} EntryConfChange leave-joint (empty)`;
  try {
    return `${at} EntryConfChange ${formatConfChange(decodeConfChange(e.data))}`;
  } catch (err) {
    return `${at} EntryConfChange <undecodable: ${(err as Error).message}>`;
  }
}

/** One entry inline; several one per line, indented under the message that carries them. */
export function formatEntries(ents: readonly Entry[]): string {
  if (ents.length === 1) return `[${formatEntry(ents[0] as Entry)}]`;
  return `[\n${ents.map((e) => `  ${formatEntry(e)}`).join("\n")}\n]`;
}

/** "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave": the configuration. */
export function formatConfState(cs: ConfState): string {
  let s = `voters=${ids(cs.voters)}`;
  if (cs.votersOutgoing.length > 0) s += `&&${ids(cs.votersOutgoing)}`;
  if (cs.learners.length > 0) s += ` learners=${ids(cs.learners)}`;
  if (cs.learnersNext.length > 0) s += ` learners_next=${ids(cs.learnersNext)}`;
  if (cs.autoLeave) s += " autoleave";
  return s;
}

export function formatSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `${m.term}/${m.index} ${formatConfState(m.confState)} data=${q(s.data)}`;
}

type Field = "logTerm" | "index" | "commit" | "entries" | "snapshot" | "reject" | "hint" | "ctx";

/** The fields each message type uses, and how to print them. */
function typeFields(m: Message): { parts: string[]; shown: Field[] } {
  const ctx = m.context.length > 0 ? [`ctx=${q(m.context)}`] : [];
  const ents = m.entries.length > 0 ? [`entries=${formatEntries(m.entries)}`] : [];
  switch (m.type) {
    case MessageType.App:
      return {
        parts: [`log=${m.logTerm}/${m.index}`, `commit=${m.commit}`, ...ents],
        shown: ["logTerm", "index", "commit", "entries"],
      };
    case MessageType.AppResp:
      return m.reject
        ? {
            parts: [`index=${m.index}`, "rejected", `hint=${m.logTerm}/${m.rejectHint}`],
            shown: ["index", "reject", "logTerm", "hint"],
          }
        : { parts: [`index=${m.index}`], shown: ["index"] };
    case MessageType.Vote:
    case MessageType.PreVote: {
      const transfer = fromAscii(m.context) === CampaignType.Transfer ? ["transfer"] : [];
      return {
        parts: [`last=${m.logTerm}/${m.index}`, ...transfer],
        shown: transfer.length > 0 ? ["logTerm", "index", "ctx"] : ["logTerm", "index"],
      };
    }
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      return { parts: m.reject ? ["rejected"] : [], shown: ["reject"] };
    case MessageType.Snap:
      return {
        parts: m.snapshot ? [`snapshot=${formatSnapshot(m.snapshot)}`] : [],
        shown: ["snapshot"],
      };
    case MessageType.Heartbeat:
      // index carries the leader's tick when it sent the heartbeat (it dates lease acks).
      return {
        parts: [`commit=${m.commit}`, `tick=${m.index}`, ...ctx],
        shown: ["commit", "index", "ctx"],
      };
    case MessageType.HeartbeatResp:
      return { parts: [`tick=${m.index}`, ...ctx], shown: ["index", "ctx"] };
    case MessageType.ReadIndex:
      return { parts: ctx, shown: ["ctx"] };
    case MessageType.ReadIndexResp:
      return { parts: [`index=${m.index}`, ...ctx], shown: ["index", "ctx"] };
    case MessageType.Prop:
      return { parts: ents, shown: ["entries"] };
    default:
      return { parts: [], shown: [] };
  }
}

/** "1->2 App term=1 log=1/3 commit=3 entries=[1/4 EntryNormal \"foo\"]". */
export function formatMessage(m: Message): string {
  const { parts, shown } = typeFields(m);
  const has = (f: Field) => shown.includes(f);
  // Anything set that this type does not normally use is printed too, so nothing is hidden.
  const extra: string[] = [];
  if (!has("logTerm") && m.logTerm !== 0) extra.push(`logTerm=${m.logTerm}`);
  if (!has("index") && m.index !== 0) extra.push(`index=${m.index}`);
  if (!has("commit") && m.commit !== 0) extra.push(`commit=${m.commit}`);
  if (!has("entries") && m.entries.length > 0) extra.push(`entries=${formatEntries(m.entries)}`);
  if (!has("snapshot") && m.snapshot) extra.push(`snapshot=${formatSnapshot(m.snapshot)}`);
  if (!has("reject") && m.reject) extra.push("rejected");
  if (!has("hint") && m.rejectHint !== 0) extra.push(`hint=${m.rejectHint}`);
  if (!has("ctx") && m.context.length > 0) extra.push(`ctx=${q(m.context)}`);
  return [`${m.from}->${m.to} ${MessageType[m.type]} term=${m.term}`, ...parts, ...extra].join(" ");
}
