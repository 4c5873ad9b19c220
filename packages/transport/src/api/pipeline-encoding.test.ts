// The hand-written Pipeline response encoder against protobuf-es: for seeded random results of
// every kind (get and put written by hand, the rest by protobuf-es), the bytes are protobuf-es's
// own, byte for byte, and read back to the same results.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetResponseSchema, PipelineResponseSchema } from "@d-engine/proto/api";
import { randomPipelineResult, seededRng } from "@d-engine/proto/testing";
import { describe, expect, it } from "vitest";
import { encodePipelineResponse } from "./pipeline-encoding.js";
import type { ResultInit } from "./pipeline-routes.js";

const SEED = 20261124;
describe("encodePipelineResponse", () => {
  it(`writes exactly protobuf-es's bytes for every kind of result (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let round = 0; round < 500; round++) {
      const results = Array.from({ length: rng.nextInt(20) }, () =>
        randomPipelineResult(rng, true),
      );
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
