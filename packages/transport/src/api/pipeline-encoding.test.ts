// The hand-written Pipeline response encoder against protobuf-es: for seeded random results of
// every kind (get and put written by hand, the rest by protobuf-es), the bytes are protobuf-es's
// own, byte for byte, and read back to the same results.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { seededRng } from "@d-engine/core";
import { KeyValueSchema } from "@d-engine/proto";
import {
  DeleteResponseSchema,
  GetResponseSchema,
  PipelineErrorSchema,
  PipelineResponseSchema,
  PutResponseSchema,
} from "@d-engine/proto/api";
import { describe, expect, it } from "vitest";
import { encodePipelineResponse } from "./pipeline-encoding.js";
import type { ResultInit } from "./pipeline-routes.js";

const SEED = 20261124;
type Rng = ReturnType<typeof seededRng>;

/** A uint64: often 0 (left out), mostly small, sometimes near or past 2^53 (protobuf-es's). */
function u64(rng: Rng): bigint {
  switch (rng.nextInt(6)) {
    case 0:
      return 0n;
    case 1:
      return BigInt(rng.nextInt(128));
    case 2:
      return BigInt(Number.MAX_SAFE_INTEGER) - BigInt(rng.nextInt(3));
    case 3:
      return BigInt(Number.MAX_SAFE_INTEGER) + 1n + BigInt(rng.nextInt(1000));
    default:
      return BigInt(rng.nextInt(2 ** 31)) * BigInt(1 + rng.nextInt(1000));
  }
}

function bytes(rng: Rng): Uint8Array {
  const n = [0, 1, 8, 127, 128, 300][rng.nextInt(6)] as number;
  return Uint8Array.from({ length: n }, () => rng.nextInt(256));
}

function keyValue(rng: Rng) {
  return create(KeyValueSchema, {
    key: bytes(rng),
    createRevision: u64(rng),
    modRevision: u64(rng),
    version: u64(rng),
    value: bytes(rng),
    lease: u64(rng),
  });
}

function result(rng: Rng): ResultInit {
  const id = u64(rng);
  switch (rng.nextInt(5)) {
    case 0:
    case 1:
      return {
        id,
        result: {
          case: "get",
          value: create(GetResponseSchema, {
            revision: u64(rng),
            ...(rng.nextInt(4) > 0 ? { kv: keyValue(rng) } : {}),
          }),
        },
      };
    case 2:
      return {
        id,
        result: {
          case: "put",
          value: create(PutResponseSchema, {
            revision: u64(rng),
            lease: u64(rng),
            ...(rng.nextInt(2) ? { prevKv: keyValue(rng) } : {}),
          }),
        },
      };
    case 3:
      return {
        id,
        result: { case: "delete", value: create(DeleteResponseSchema, { revision: u64(rng) }) },
      };
    default:
      return {
        id,
        result: {
          case: "error",
          value: create(PipelineErrorSchema, { code: rng.nextInt(17), message: "no leader" }),
        },
      };
  }
}

describe("encodePipelineResponse", () => {
  it(`writes exactly protobuf-es's bytes for every kind of result (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let round = 0; round < 500; round++) {
      const results = Array.from({ length: rng.nextInt(20) }, () => result(rng));
      const expected = toBinary(
        PipelineResponseSchema,
        create(PipelineResponseSchema, { results }),
      );
      const got = encodePipelineResponse(results);
      expect(Buffer.from(got).toString("hex"), `round ${round}`).toBe(
        Buffer.from(expected).toString("hex"),
      );
      const back = fromBinary(PipelineResponseSchema, got);
      expect(back.results.map((r) => [r.id, r.result.case])).toEqual(
        results.map((r) => [r.id, r.result.case]),
      );
    }
  });

  it("writes an empty response as no bytes, and a result of zeros as its id alone", () => {
    expect(encodePipelineResponse([]).length).toBe(0);
    const zeros: ResultInit = { id: 0n, result: { case: "get", value: create(GetResponseSchema) } };
    // Field 1, length 2: the result holds only its (empty) get, field 4 of length 0.
    expect([...encodePipelineResponse([zeros])]).toEqual([0x0a, 2, 0x22, 0]);
  });
});
