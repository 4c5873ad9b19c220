// The Node client's hand-written Pipeline codec against protobuf-es: requests of every kind
// written byte for byte as toBinary writes them; responses read field for field as fromBinary
// reads them, or handed back (undefined) for fromBinary when they hold anything else.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { KeyValueSchema } from "@d-engine/proto";
import {
  DeleteRequestSchema,
  DeleteResponseSchema,
  GetRequestSchema,
  GetResponseSchema,
  type PipelineCall,
  PipelineCallSchema,
  PipelineErrorSchema,
  PipelineRequestSchema,
  PipelineResponseSchema,
  type PipelineResult,
  PipelineResultSchema,
  PutRequestSchema,
  PutResponseSchema,
} from "@d-engine/proto/api";
import { describe, expect, it } from "vitest";
import { type SeededRng, seededRng } from "../util/seeded-rng.js";
import { decodePipelineResponseFast, encodePipelineRequest } from "./pipeline-codec.js";

const SEED = 20261126;
type Rng = SeededRng;

/** A uint64: often 0, mostly small, sometimes at or past 2^53 (then protobuf-es writes it). */
function u64(rng: Rng, big: boolean): bigint {
  switch (rng.nextInt(big ? 6 : 5)) {
    case 0:
      return 0n;
    case 1:
    case 2:
      return BigInt(rng.nextInt(300));
    case 3:
      return BigInt(rng.nextInt(2 ** 31)) * BigInt(1 + rng.nextInt(1000));
    case 4:
      return BigInt(Number.MAX_SAFE_INTEGER) - BigInt(rng.nextInt(3));
    default:
      return BigInt(Number.MAX_SAFE_INTEGER) + 1n + BigInt(rng.nextInt(1000));
  }
}

function bytes(rng: Rng): Uint8Array {
  const n = [0, 1, 8, 127, 128, 256, 300][rng.nextInt(7)] as number;
  return Uint8Array.from({ length: n }, () => rng.nextInt(256));
}

// Empty, ASCII, Cyrillic, CJK with an emoji, a lone surrogate (written as U+FFFD by both), long.
const CLIENT_IDS = ["", "c-4f2a9", "клиент", "客户端-😀", "a\ud800b", "x".repeat(200)];

function call(rng: Rng, big: boolean): PipelineCall {
  const id = u64(rng, big);
  const timeoutMs = u64(rng, big);
  switch (rng.nextInt(5)) {
    case 0:
    case 1: {
      const session =
        rng.nextInt(3) > 0
          ? {
              session: {
                clientId: CLIENT_IDS[rng.nextInt(CLIENT_IDS.length)] as string,
                sequence: u64(rng, big),
                firstIncomplete: u64(rng, big),
              },
            }
          : {};
      const value = create(PutRequestSchema, {
        key: bytes(rng),
        value: bytes(rng),
        lease: u64(rng, big),
        ttlSeconds: u64(rng, big),
        prevKv: rng.nextInt(2) === 1,
        ...session,
      });
      return create(PipelineCallSchema, { id, timeoutMs, request: { case: "put", value } });
    }
    case 2: {
      const value = create(GetRequestSchema, {
        key: bytes(rng),
        revision: u64(rng, big),
        consistency: [0, 1, 2, 3, 200, -1][rng.nextInt(6)] as number,
      });
      return create(PipelineCallSchema, { id, timeoutMs, request: { case: "get", value } });
    }
    case 3: {
      const value = create(DeleteRequestSchema, { key: bytes(rng) });
      return create(PipelineCallSchema, { id, request: { case: "delete", value } });
    }
    default:
      return create(PipelineCallSchema, { id, timeoutMs });
  }
}

function keyValue(rng: Rng, big: boolean) {
  return create(KeyValueSchema, {
    key: bytes(rng),
    createRevision: u64(rng, big),
    modRevision: u64(rng, big),
    version: u64(rng, big),
    value: bytes(rng),
    lease: u64(rng, big),
  });
}

function result(rng: Rng, big: boolean): PipelineResult {
  const id = u64(rng, big);
  switch (rng.nextInt(6)) {
    case 0:
    case 1: {
      const kv = rng.nextInt(4) > 0 ? { kv: keyValue(rng, big) } : {};
      const value = create(GetResponseSchema, { revision: u64(rng, big), ...kv });
      return create(PipelineResultSchema, { id, result: { case: "get", value } });
    }
    case 2:
    case 3: {
      const prev = rng.nextInt(2) ? { prevKv: keyValue(rng, big) } : {};
      const value = create(PutResponseSchema, {
        revision: u64(rng, big),
        lease: u64(rng, big),
        ...prev,
      });
      return create(PipelineResultSchema, { id, result: { case: "put", value } });
    }
    case 4: {
      const value = create(DeleteResponseSchema, { revision: u64(rng, big) });
      return create(PipelineResultSchema, { id, result: { case: "delete", value } });
    }
    default: {
      const value = create(PipelineErrorSchema, { code: rng.nextInt(17), message: "no leader" });
      return create(PipelineResultSchema, { id, result: { case: "error", value } });
    }
  }
}

/** PipelineResponse { results: [{ get { revision 5 }, get { kv { key [1] } } }] }. */
const GET_TWICE = [0x0a, 0x0b, 0x22, 0x02, 0x08, 0x05, 0x22, 0x05, 0x12, 0x03, 0x0a, 0x01, 0x01];

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("encodePipelineRequest", () => {
  it(`writes exactly protobuf-es's bytes for every kind of call (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let round = 0; round < 2000; round++) {
      const big = rng.nextInt(2) === 1;
      const m = create(PipelineRequestSchema, {
        calls: Array.from({ length: rng.nextInt(8) }, () => call(rng, big)),
        cancel: Array.from({ length: rng.nextInt(3) }, () => u64(rng, big)),
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
      const results = Array.from({ length: rng.nextInt(6) }, () => result(rng, big));
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
        let r = result(rng, false);
        while (r.result.case !== "put" && r.result.case !== "get") r = result(rng, false);
        return r;
      });
      const b = toBinary(PipelineResponseSchema, create(PipelineResponseSchema, { results }));
      const got = decodePipelineResponseFast(b);
      expect(got, `round ${round}`).toBeDefined();
      expect(got).toStrictEqual(fromBinary(PipelineResponseSchema, b));
    }
  });
});
