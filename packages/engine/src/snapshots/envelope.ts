// The engine's snapshot data: the member address book and the KV state machine's snapshot, so a
// node that catches up by snapshot learns the addresses of members added before the snapshot
// (their ConfChange entries are compacted away). The snapshot store wraps this in its own
// checksummed file format; the KV snapshot carries its own checksums as well.
//
//   "DENGSNP1" | u32le length of the JSON | JSON {members: MemberRecord[]} | KV snapshot bytes
import type { MemberRecord } from "../membership/address-book.js";

const MAGIC = new TextEncoder().encode("DENGSNP1");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SnapshotEnvelopeError extends Error {
  override name = "SnapshotEnvelopeError";
}

export function encodeEnvelope(
  members: readonly MemberRecord[],
  kvChunks: Iterable<Uint8Array>,
): Uint8Array {
  const json = encoder.encode(JSON.stringify({ members }));
  const chunks = [...kvChunks];
  let kvBytes = 0;
  for (const c of chunks) kvBytes += c.length;
  const out = new Uint8Array(MAGIC.length + 4 + json.length + kvBytes);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  let pos = MAGIC.length + 4 + json.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

export interface DecodedEnvelope {
  readonly members: MemberRecord[];
  /** A view into the data: the KV snapshot. */
  readonly kv: Uint8Array;
}

export function decodeEnvelope(data: Uint8Array, where: string): DecodedEnvelope {
  if (data.length < MAGIC.length + 4 || !MAGIC.every((b, i) => data[i] === b)) {
    throw new SnapshotEnvelopeError(`${where}: not an engine snapshot (bad magic)`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = view.getUint32(MAGIC.length, true);
  const start = MAGIC.length + 4;
  if (start + len > data.length) {
    throw new SnapshotEnvelopeError(`${where}: member list of ${len} bytes runs past the end`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data.subarray(start, start + len)));
  } catch (e) {
    throw new SnapshotEnvelopeError(`${where}: member list is not JSON: ${(e as Error).message}`);
  }
  const members = (parsed as { members?: unknown }).members;
  if (!Array.isArray(members)) {
    throw new SnapshotEnvelopeError(`${where}: member list missing`);
  }
  const records: MemberRecord[] = members.map((m: Record<string, unknown>) => ({
    id: Number(m.id),
    address: String(m.address ?? ""),
    clientAddress: String(m.clientAddress ?? m.address ?? ""),
    readOnly: m.readOnly === true,
  }));
  return { members: records, kv: data.subarray(start + len) };
}
