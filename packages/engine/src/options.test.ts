import { InvalidArgumentError } from "@d-engine/client";
import { describe, expect, it } from "vitest";
import { type NodeOptions, resolveOptions } from "./options.js";

const base: NodeOptions = {
  nodeId: 1,
  clusterId: "c",
  address: "127.0.0.1:1",
  initialMembers: [{ id: 1, address: "127.0.0.1:1" }],
  peerTransport: () => {
    throw new Error("not used");
  },
};

const fails = (o: Partial<NodeOptions>, message: RegExp) => {
  let err: unknown;
  try {
    resolveOptions({ ...base, ...o });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect((err as Error).message).toMatch(message);
};

describe("node options", () => {
  it("fills in the defaults", () => {
    const r = resolveOptions(base);
    expect(r.tickMs).toBe(100);
    expect(r.defaultConsistency).toBe("linearizable");
    expect(r.compaction).toEqual({ keepRevisions: 10_000, intervalMs: 5_000 });
    expect(r.snapshots.policy).toBe("log-size");
    expect(r.limits.maxTxnOps).toBe(128);
  });

  it("names the bad setting", () => {
    fails({ raft: { electionTicks: 2, heartbeatTicks: 2 } }, /raft\.heartbeatTicks/);
    fails({ initialMembers: [{ id: 2, address: "x" }] }, /initialMembers: this node \(1\)/);
    fails({ reads: { defaultConsistency: "strong" as never } }, /reads\.defaultConsistency/);
    fails({ snapshots: { policy: "sometimes" } as never }, /snapshots\.policy/);
    fails({ limits: { maxValueBytes: -1 } }, /limits\.maxValueBytes/);
    fails({ clusterId: "" }, /clusterId/);
  });

  it("compaction by time alone keeps no revision count; false turns it off", () => {
    expect(resolveOptions({ ...base, compaction: { retentionMs: 60_000 } }).compaction).toEqual({
      retentionMs: 60_000,
      intervalMs: 5_000,
    });
    expect(resolveOptions({ ...base, compaction: false }).compaction).toBe(false);
  });
});
