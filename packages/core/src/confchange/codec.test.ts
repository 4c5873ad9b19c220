import { describe, expect, it } from "vitest";
import { type Rng, seededRng } from "../rng.js";
import { type ConfChange, ConfChangeTransition, ConfChangeType } from "../types.js";
import {
  ConfChangeDecodeError,
  confChange,
  decodeConfChange,
  encodeConfChange,
  isLeaveJoint,
  needsJoint,
} from "./codec.js";

const roundTrip = (cc: ConfChange): ConfChange => decodeConfChange(encodeConfChange(cc));

/** A node id anywhere in [0, 2^53 - 1], built from two draws (nextInt takes at most 2^32). */
function randomId(rng: Rng): number {
  switch (rng.nextInt(3)) {
    case 0:
      return rng.nextInt(200);
    case 1:
      return rng.nextInt(0x100000000);
    default:
      return rng.nextInt(0x200000) * 0x100000000 + rng.nextInt(0x100000000);
  }
}

function randomConfChange(rng: Rng): ConfChange {
  const changes = [];
  for (let n = rng.nextInt(6); n > 0; n--) {
    changes.push({ type: rng.nextInt(3) as ConfChangeType, nodeId: randomId(rng) });
  }
  const context = new Uint8Array(rng.nextInt(3) === 0 ? rng.nextInt(300) : 0);
  for (let i = 0; i < context.length; i++) context[i] = rng.nextInt(256);
  return { transition: rng.nextInt(3) as ConfChangeTransition, changes, context };
}

function decodeError(buf: number[]): string {
  try {
    decodeConfChange(Uint8Array.from(buf));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfChangeDecodeError);
    return (e as Error).message;
  }
  throw new Error(`decoding [${buf.join(",")}] did not fail`);
}

const SEED = 777;

describe("conf change codec", () => {
  it(`round-trips random conf changes (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let i = 0; i < 1000; i++) {
      const cc = randomConfChange(rng);
      expect(roundTrip(cc), `seed ${SEED} case ${i}`).toEqual(cc);
    }
  });

  it("round-trips node ids up to Number.MAX_SAFE_INTEGER", () => {
    for (const nodeId of [0, 127, 128, 2 ** 32, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER]) {
      const cc = confChange.addNode(nodeId);
      expect(roundTrip(cc).changes[0]?.nodeId).toBe(nodeId);
    }
  });

  it("round-trips the helpers, including an empty leave-joint change", () => {
    for (const cc of [
      confChange.addNode(3, Uint8Array.from([1, 2, 3])),
      confChange.addLearner(4),
      confChange.removeNode(5),
      confChange.leaveJoint(),
    ]) {
      expect(roundTrip(cc)).toEqual(cc);
    }
  });

  it("refuses to encode ids that are not safe non-negative integers", () => {
    for (const nodeId of [-1, 1.5, 2 ** 53]) {
      expect(() => encodeConfChange(confChange.addNode(nodeId))).toThrow(RangeError);
    }
  });

  it("rejects every truncation of a valid encoding", () => {
    const buf = encodeConfChange(confChange.addNode(300, Uint8Array.from([9, 9])));
    // The empty prefix is not truncated: empty data means "leave the joint configuration".
    expect(decodeConfChange(buf.subarray(0, 0))).toEqual(confChange.leaveJoint());
    for (let n = 1; n < buf.length; n++) {
      expect(() => decodeConfChange(buf.subarray(0, n)), `prefix ${n}`).toThrow(
        ConfChangeDecodeError,
      );
    }
    // Cut inside the header: the reader runs out of bytes.
    expect(decodeError([1])).toBe("conf change truncated");
    expect(decodeError([1, 0, 1, 0, 0x80])).toBe("conf change truncated");
  });

  it("rejects an unknown version", () => {
    expect(decodeError([2, 0, 0, 0])).toBe("unsupported conf change encoding version 2");
    expect(decodeError([0, 0, 0, 0])).toMatch(/version 0/);
  });

  it("rejects an unknown transition", () => {
    expect(decodeError([1, 3, 0, 0])).toBe("unknown conf change transition 3");
  });

  it("rejects an unknown change type", () => {
    expect(decodeError([1, 0, 1, 7, 1, 0])).toBe("unknown conf change type 7");
  });

  it("rejects a context length that does not match the bytes left", () => {
    expect(decodeError([1, 0, 0, 2, 5])).toMatch(/context length 2 does not match the 1 bytes/);
    expect(decodeError([1, 0, 0, 0, 5])).toMatch(/context length 0 does not match the 1 bytes/);
  });

  it("rejects varints beyond the safe integer range or longer than 8 bytes", () => {
    const huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]; // 2^56 - 1
    expect(decodeError([1, 0, 1, 0, ...huge, 0])).toBe("conf change varint too large");
    const long = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
    expect(decodeError([1, 0, ...long])).toBe("conf change varint too long");
  });
});

describe("needsJoint / isLeaveJoint", () => {
  const one = [{ type: ConfChangeType.AddNode, nodeId: 1 }];
  const two = [...one, { type: ConfChangeType.AddNode, nodeId: 2 }];
  const cc = (transition: ConfChangeTransition, changes = one): ConfChange => ({
    transition,
    changes,
    context: new Uint8Array(0),
  });

  it("a single Auto change is simple; several changes or an explicit transition need joint", () => {
    expect(needsJoint(cc(ConfChangeTransition.Auto))).toBe(false);
    expect(needsJoint(cc(ConfChangeTransition.Auto, two))).toBe(true);
    expect(needsJoint(cc(ConfChangeTransition.JointImplicit))).toBe(true);
    expect(needsJoint(cc(ConfChangeTransition.JointExplicit))).toBe(true);
  });

  it("only an empty Auto change leaves joint", () => {
    expect(isLeaveJoint(cc(ConfChangeTransition.Auto, []))).toBe(true);
    expect(isLeaveJoint(cc(ConfChangeTransition.JointExplicit, []))).toBe(false);
    expect(isLeaveJoint(cc(ConfChangeTransition.Auto))).toBe(false);
  });
});
