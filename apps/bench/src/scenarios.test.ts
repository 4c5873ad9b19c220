import { describe, expect, it } from "vitest";
import {
  benchValue,
  KEY_BYTES,
  keyOf,
  preloadSpec,
  SCENARIO_NAMES,
  scenario,
  VALUE_BYTES,
} from "./scenarios.js";

describe("scenarios", () => {
  it("have issue 7's full sizes: 10,000 puts by one client, 100,000 ops by 1,000 clients", () => {
    expect(scenario("single-client-write").spec).toMatchObject({ ops: 10_000, clients: 1 });
    for (const name of SCENARIO_NAMES.filter((n) => n !== "single-client-write")) {
      expect(scenario(name).spec).toMatchObject({ ops: 100_000, clients: 1_000 });
    }
    expect(scenario("hot-key").spec.keySpace).toBe(10);
    expect(scenario("lease-read").spec.consistency).toBe("lease");
  });

  it("scale, never below one op nor above one client per op", () => {
    expect(scenario("high-concurrency-write", 0.002).spec).toMatchObject({
      ops: 200,
      clients: 200,
    });
    expect(scenario("single-client-write", 1e-9).spec).toMatchObject({ ops: 1, clients: 1 });
    // Small runs preload fewer read keys (at least the hot key scenario's 10).
    expect(scenario("linearizable-read").spec.keySpace).toBe(1_000);
    expect(scenario("linearizable-read", 0.1).spec.keySpace).toBe(100);
    expect(scenario("eventual-read", 0.002).spec.keySpace).toBe(10);
    expect(preloadSpec(0.002)).toMatchObject({ kind: "write", ops: 10, keySpace: 10 });
  });

  it("use 8-byte keys and 256-byte values", () => {
    expect(keyOf("s", 0)).toBe("s0000000");
    expect(keyOf("c", 99_999)).toHaveLength(KEY_BYTES);
    expect(keyOf("c", 12_345_678)).toHaveLength(KEY_BYTES);
    expect(benchValue()).toHaveLength(VALUE_BYTES);
  });
});
