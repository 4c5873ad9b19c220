// The hand-written Pipeline request reader against protobuf-es: for seeded random requests, and
// for the same bytes bent in the ways that must send a message back to fromBinary (an unknown
// field, a field given twice, a number past 2^53, a truncated message), it either returns exactly
// what fromBinary returns or returns undefined; and it does take the messages a client sends.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type PipelineCall,
  PipelineRequestSchema,
  type ReadConsistency,
} from "@d-engine/proto/api";
import { randomPipelineCall, randomU64, type SeededRng, seededRng } from "@d-engine/proto/testing";
import { describe, expect, it } from "vitest";
import { decodePipelineRequestFast } from "./pipeline-decoding.js";

const SEED = 20261125;

function requestBytes(rng: SeededRng, big: boolean): Uint8Array {
  const calls = Array.from({ length: rng.nextInt(6) }, () => randomPipelineCall(rng, big));
  const cancel = Array.from({ length: rng.nextInt(3) }, () => randomU64(rng, big));
  return toBinary(PipelineRequestSchema, create(PipelineRequestSchema, { calls, cancel }));
}

/** PipelineRequest { calls: [{ put { key [1] }, put { value [2] } }] }. */
const PUT_TWICE = [0x0a, 0x0a, 0x1a, 0x03, 0x0a, 0x01, 0x01, 0x1a, 0x03, 0x12, 0x01, 0x02];

/** `b` bent in one of the ways that need fromBinary (or that fromBinary refuses). */
function bend(rng: SeededRng, b: Uint8Array): Uint8Array {
  const join = (...parts: (Uint8Array | number[])[]) =>
    Uint8Array.from(parts.flatMap((p) => [...p]));
  switch (rng.nextInt(5)) {
    case 0:
      // An unknown field (number 15, varint) at the end.
      return join(b, [0x78, 0x01]);
    case 1:
      // The whole message twice: every call and cancel twice (a repeated field grows).
      return join(b, b);
    case 2:
      // Cut short.
      return b.subarray(0, Math.max(0, b.length - 1 - rng.nextInt(4)));
    case 3:
      // Cancel ids unpacked (wire type 0), as an old encoder may send them.
      return join(b, [0x10, rng.nextInt(128)]);
    default:
      // A call whose put is given twice, {key [1]} then {value [2]}: protobuf merges the two
      // into one put with both (taking only the last would lose the key): fromBinary's.
      return join(b, PUT_TWICE);
  }
}

/** fromBinary's reading of `b`, or "throws". */
function reference(b: Uint8Array) {
  try {
    return fromBinary(PipelineRequestSchema, b);
  } catch {
    return "throws";
  }
}

describe("decodePipelineRequestFast", () => {
  it(`reads what fromBinary reads, or hands the message back (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    let taken = 0;
    let handedBack = 0;
    for (let round = 0; round < 3000; round++) {
      let b = requestBytes(rng, rng.nextInt(2) === 1);
      if (rng.nextInt(3) === 0) b = bend(rng, b);
      // The server reads from Buffers; protobuf-es's byte fields are views of the input either way.
      const input = rng.nextInt(2) ? Buffer.from(b) : b;
      const want = reference(input);
      const got = decodePipelineRequestFast(input);
      if (got === undefined) {
        handedBack++;
        continue;
      }
      taken++;
      expect(want, `round ${round}: fromBinary refused what the hand reader took`).not.toBe(
        "throws",
      );
      expect(got, `round ${round}`).toStrictEqual(want);
    }
    // Both ways are exercised.
    expect(taken).toBeGreaterThan(600);
    expect(handedBack).toBeGreaterThan(600);
  });

  it("takes what the Node client sends under load: puts and gets with small numbers", () => {
    const rng = seededRng(SEED + 1);
    for (let round = 0; round < 200; round++) {
      // What a client sends: puts and gets, no negative consistency (a ten-byte varint).
      const sendable = (c: PipelineCall): boolean =>
        c.request.case === "put" || (c.request.case === "get" && c.request.value.consistency >= 0);
      const calls = Array.from({ length: 1 + rng.nextInt(8) }, () => {
        let c = randomPipelineCall(rng, false);
        while (!sendable(c)) c = randomPipelineCall(rng, false);
        return c;
      });
      const b = toBinary(PipelineRequestSchema, create(PipelineRequestSchema, { calls }));
      const got = decodePipelineRequestFast(b);
      expect(got, `round ${round}`).toBeDefined();
      expect(got).toStrictEqual(fromBinary(PipelineRequestSchema, b));
    }
  });

  it("hands back an invalid enum, a merge and a ten-byte varint; takes a second oneof member", () => {
    // Call {id 1, get {consistency -1}}: an int32 of -1 is ten bytes on the wire.
    const negative = toBinary(
      PipelineRequestSchema,
      create(PipelineRequestSchema, {
        calls: [
          {
            id: 1n,
            request: {
              case: "get",
              value: { key: new Uint8Array([1]), consistency: -1 as ReadConsistency },
            },
          },
        ],
      }),
    );
    expect(decodePipelineRequestFast(negative)).toBeUndefined();
    // Call {put {}, get {}}: the get replaces the put, in protobuf as here.
    const both = Uint8Array.from([0x0a, 0x04, 0x1a, 0x00, 0x22, 0x00]);
    expect(fromBinary(PipelineRequestSchema, both).calls[0]?.request.case).toBe("get");
    expect(decodePipelineRequestFast(both)).toStrictEqual(fromBinary(PipelineRequestSchema, both));
    // A message field given twice: protobuf merges the two.
    const twice = Uint8Array.from(PUT_TWICE);
    expect(decodePipelineRequestFast(twice)).toBeUndefined();
    const merged = fromBinary(PipelineRequestSchema, twice).calls[0]?.request;
    expect(merged?.case === "put" && [...merged.value.key, ...merged.value.value]).toEqual([1, 2]);
    // And the plain message is taken.
    const plain = Uint8Array.from([0x0a, 0x04, 0x08, 0x07, 0x1a, 0x00]);
    expect(decodePipelineRequestFast(plain)).toStrictEqual(
      fromBinary(PipelineRequestSchema, plain),
    );
  });
});
