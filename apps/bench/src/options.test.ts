import { describe, expect, it } from "vitest";
import { parseBenchArgs, UsageError } from "./options.js";
import { SCENARIO_NAMES } from "./scenarios.js";

describe("parseBenchArgs", () => {
  it("defaults to the full run: every scenario, both modes, etcd, full size", () => {
    expect(parseBenchArgs([])).toEqual({
      scenarios: SCENARIO_NAMES,
      modes: ["embedded", "standalone"],
      etcd: true,
      ops: 1,
      connections: 100,
      timeoutMs: 60_000,
      json: false,
      stateMachineFsync: false,
    });
    expect(parseBenchArgs(["--state-machine-fsync"])?.stateMachineFsync).toBe(true);
  });

  it("takes lists in any order and keeps the canonical one", () => {
    const o = parseBenchArgs([
      "--scenarios",
      "lease-read,single-client-write",
      "--modes",
      "standalone",
      "--ops",
      "0.5",
      "--no-etcd",
      "--json",
    ]);
    expect(o?.scenarios).toEqual(["single-client-write", "lease-read"]);
    expect(o?.modes).toEqual(["standalone"]);
    expect(o?.ops).toBe(0.5);
    expect(o?.etcd).toBe(false);
    expect(o?.json).toBe(true);
  });

  it("refuses unknown names, bad numbers and unknown flags, naming them", () => {
    expect(() => parseBenchArgs(["--scenarios", "writes"])).toThrow(/unknown "writes"/);
    expect(() => parseBenchArgs(["--modes", "etcd"])).toThrow(UsageError);
    expect(() => parseBenchArgs(["--ops", "0"])).toThrow(/--ops/);
    expect(() => parseBenchArgs(["--connections", "1.5"])).toThrow(/--connections/);
    expect(() => parseBenchArgs(["--fast"])).toThrow(UsageError);
  });

  it("answers --help with no options", () => {
    expect(parseBenchArgs(["--help"])).toBeUndefined();
  });
});
