// The byte encoding of a ConfChange inside a log entry. The core has no dependencies, so it cannot
// use protobuf here; this small format is versioned so it can evolve:
//   u8 version (1) | u8 transition | varint count | count x (u8 type, varint nodeId)
//   | varint contextLength | context bytes
// Varints are unsigned LEB128 over safe integers (up to 2^53 - 1).
import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
} from "../types.js";

const VERSION = 1;

export class ConfChangeDecodeError extends Error {
  override name = "ConfChangeDecodeError";
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out: number[] = [VERSION, cc.transition];
  writeVarint(out, cc.changes.length);
  for (const c of cc.changes) {
    out.push(c.type);
    writeVarint(out, c.nodeId);
  }
  writeVarint(out, cc.context.length);
  const head = Uint8Array.from(out);
  const buf = new Uint8Array(head.length + cc.context.length);
  buf.set(head, 0);
  buf.set(cc.context, head.length);
  return buf;
}

export function decodeConfChange(buf: Uint8Array): ConfChange {
  // Empty data is how a leader encodes its own automatic leave-joint entry (it is free of the
  // uncommitted-size cap that way).
  if (buf.length === 0) return confChange.leaveJoint();
  const r = { buf, pos: 0 };
  const version = readByte(r);
  if (version !== VERSION) {
    throw new ConfChangeDecodeError(`unsupported conf change encoding version ${version}`);
  }
  const transition = readByte(r);
  if (!(transition in ConfChangeTransition)) {
    throw new ConfChangeDecodeError(`unknown conf change transition ${transition}`);
  }
  const count = readVarint(r);
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < count; i++) {
    const type = readByte(r);
    if (!(type in ConfChangeType))
      throw new ConfChangeDecodeError(`unknown conf change type ${type}`);
    changes.push({ type, nodeId: readVarint(r) });
  }
  const len = readVarint(r);
  if (r.pos + len !== buf.length) {
    throw new ConfChangeDecodeError(
      `conf change context length ${len} does not match the ${buf.length - r.pos} bytes left`,
    );
  }
  return { transition, changes, context: buf.slice(r.pos, r.pos + len) };
}

function writeVarint(out: number[], n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a varint: ${n}`);
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

interface Reader {
  buf: Uint8Array;
  pos: number;
}

function readByte(r: Reader): number {
  const b = r.buf[r.pos];
  if (b === undefined) throw new ConfChangeDecodeError("conf change truncated");
  r.pos++;
  return b;
}

function readVarint(r: Reader): number {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    const b = readByte(r);
    n += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (!Number.isSafeInteger(n)) throw new ConfChangeDecodeError("conf change varint too large");
      return n;
    }
    mul *= 0x80;
  }
  throw new ConfChangeDecodeError("conf change varint too long");
}

/** Helpers to build common changes. */
export const confChange = {
  addNode: (nodeId: number, context: Uint8Array = new Uint8Array(0)): ConfChange => ({
    transition: ConfChangeTransition.Auto,
    changes: [{ type: ConfChangeType.AddNode, nodeId }],
    context,
  }),
  addLearner: (nodeId: number, context: Uint8Array = new Uint8Array(0)): ConfChange => ({
    transition: ConfChangeTransition.Auto,
    changes: [{ type: ConfChangeType.AddLearner, nodeId }],
    context,
  }),
  removeNode: (nodeId: number): ConfChange => ({
    transition: ConfChangeTransition.Auto,
    changes: [{ type: ConfChangeType.RemoveNode, nodeId }],
    context: new Uint8Array(0),
  }),
  /** Leaves an explicit joint configuration. */
  leaveJoint: (): ConfChange => ({
    transition: ConfChangeTransition.Auto,
    changes: [],
    context: new Uint8Array(0),
  }),
};

/** Whether the change must go through a joint configuration (etcd's EnterJoint rule). */
export function needsJoint(cc: ConfChange): boolean {
  return cc.changes.length > 1 || cc.transition !== ConfChangeTransition.Auto;
}

/** Whether this change asks to leave a joint configuration (no changes, Auto transition). */
export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0 && cc.transition === ConfChangeTransition.Auto;
}
