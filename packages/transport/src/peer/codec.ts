// What the peer codec adds to the shared one (@d-engine/proto/raft-codec): which message types
// may come from a peer (local-only ones are refused rather than stepped into the core), and a
// cheap size estimate for cutting batches into frames.
import { isLocalMessage, type Message, MessageType } from "@d-engine/core";

const PEER_TYPES = new Set<number>(
  Object.values(MessageType).filter(
    (v): v is MessageType => typeof v === "number" && !isLocalMessage(v),
  ),
);

export function isPeerMessageType(t: number): boolean {
  return PEER_TYPES.has(t);
}

/** About how many bytes a message takes on the wire (for cutting batches into frames). */
export function approxMessageBytes(m: Message): number {
  let n = 64 + m.context.length + (m.snapshot?.data.length ?? 0);
  for (const e of m.entries) n += 24 + e.data.length;
  return n;
}
