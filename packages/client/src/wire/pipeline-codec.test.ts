// The Node client's hand-written Pipeline codec against protobuf-es: requests of every kind
// written byte for byte as toBinary writes them; responses read field for field as fromBinary
// reads them, or handed back (undefined) for fromBinary when they hold anything else.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PipelineRequestSchema, PipelineResponseSchema } from "@d-engine/proto/api";
import {
  randomPipelineCall,
  randomPipelineResult,
  randomU64,
  seededRng,
} from "@d-engine/proto/testing";
import { describe, expect, it } from "vitest";
import { decodePipelineResponseFast, encodePipelineRequest } from "./pipeline-codec.js";

const SEED = 20261126;

/** PipelineResponse { results: [{ get { revision 5 }, get { kv { key [1] } } }] }. */
const GET_TWICE = [0x0a, 0x0b, 0x22, 0x02, 0x08, 0x05, 0x22, 0x05, 0x12, 0x03, 0x0a, 0x01, 0x01];

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("encodePipelineRequest", () => {
  it(`writes exactly protobuf-es's bytes for every kind of call (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let round = 0; round < 2000; round++) {
      const big = rng.nextInt(2) === 1;
      const m = create(PipelineRequestSchema, {
        calls: Array.from({ length: rng.nextInt(8) }, () => randomPipelineCall(rng, big)),
        cancel: Array.from({ length: rng.nextInt(3) }, () => randomU64(rng, big)),
      });
      expect(hex(encodePipelineRequest(m)), `round ${round}`).toBe(
        hex(toBinary(PipelineRequestSchema, m)),
      );
    }
  });
});

describe("decodePipelineResponseFast", () => {
  it(`reads what fromBinary reads, or hands the message back (seed ${SEED})`, () => {
    const rng = seededRng(SEED + 1);
    let taken = 0;
    let handedBack = 0;
    for (let round = 0; round < 3000; round++) {
      const big = rng.nextInt(2) === 1;
      const results = Array.from({ length: rng.nextInt(6) }, () => randomPipelineResult(rng, big));
      let b = toBinary(PipelineResponseSchema, create(PipelineResponseSchema, { results }));
      // Bent: an unknown field, the whole message twice (results repeated), or cut short.
      switch (rng.nextInt(8)) {
        case 0:
          b = Uint8Array.from([...b, 0x78, 0x01]);
          break;
        case 1:
          b = Uint8Array.from([...b, ...b]);
          break;
        case 2:
          b = b.subarray(0, Math.max(0, b.length - 1 - rng.nextInt(4)));
          break;
        case 3:
          // A result whose get is given twice: protobuf merges the two (fromBinary's).
          b = Uint8Array.from([...b, ...GET_TWICE]);
          break;
      }
      const input = rng.nextInt(2) ? Buffer.from(b) : b;
      let want: unknown;
      try {
        want = fromBinary(PipelineResponseSchema, input);
      } catch {
        want = "throws";
      }
      const got = decodePipelineResponseFast(input);
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
    expect(taken).toBeGreaterThan(500);
    expect(handedBack).toBeGreaterThan(500);
  });

  it("hands back a message field given twice, which protobuf merges", () => {
    const twice = Uint8Array.from(GET_TWICE);
    expect(decodePipelineResponseFast(twice)).toBeUndefined();
    const merged = fromBinary(PipelineResponseSchema, twice).results[0]?.result;
    // Both halves survive the merge: taking only the last get would lose the revision.
    expect(merged?.case === "get" && [merged.value.revision, merged.value.kv?.key[0]]).toEqual([
      5n,
      1,
    ]);
  });

  it("takes the answers of a loaded stream: puts and gets with small numbers", () => {
    const rng = seededRng(SEED + 2);
    for (let round = 0; round < 200; round++) {
      const results = Array.from({ length: 1 + rng.nextInt(8) }, () => {
        let r = randomPipelineResult(rng, false);
        while (r.result.case !== "put" && r.result.case !== "get")
          r = randomPipelineResult(rng, false);
        return r;
      });
      const b = toBinary(PipelineResponseSchema, create(PipelineResponseSchema, { results }));
      const got = decodePipelineResponseFast(b);
      expect(got, `round ${round}`).toBeDefined();
      expect(got).toStrictEqual(fromBinary(PipelineResponseSchema, b));
    }
  });
});
