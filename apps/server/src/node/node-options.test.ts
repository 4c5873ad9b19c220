import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.js";
import { toNodeOptions } from "./node-options.js";

const load = (env: Record<string, string>) => loadConfig({ env, cwd: "/srv" }).config;

describe("toNodeOptions", () => {
  it("maps the default configuration to a single durable node", () => {
    expect(toNodeOptions(load({}))).toEqual({
      nodeId: 1,
      clusterId: "d-engine",
      address: "127.0.0.1:9081",
      initialMembers: [{ id: 1, address: "127.0.0.1:9081" }],
      join: false,
      dataDir: "/srv/data",
      stateMachineFsync: false,
      raft: {
        tickMs: 100,
        electionTicks: 10,
        heartbeatTicks: 1,
        preVote: true,
        checkQuorum: true,
        commitBroadcastDelayMs: 2,
        followerApplyDelayMs: 5,
      },
      reads: { defaultConsistency: "linearizable", allowOverride: true },
      snapshots: {
        policy: "log-size",
        maxLogEntries: 10_000,
        cooldownMs: 30_000,
        keepEntries: 1_000,
      },
      compaction: { keepRevisions: 10_000 },
      learners: { autoPromote: true, maxLagEntries: 100 },
      limits: {
        maxKeyBytes: 4096,
        maxValueBytes: 1024 * 1024,
        maxRequestBytes: 1536 * 1024,
        maxTxnOps: 128,
        maxGetManyKeys: 1024,
      },
      backpressure: { maxPendingWrites: 10_000, maxPendingReads: 10_000, retryAfterMs: 100 },
      requestTimeoutMs: 10_000,
      leases: { checkpointIntervalMs: 5_000 },
    });
  });

  it("advertises the advertised address, not the listen address", () => {
    const o = toNodeOptions(
      load({
        DENGINE_LISTEN: "0.0.0.0:9082",
        DENGINE_ADVERTISE: "10.0.0.2:9082",
        DENGINE_NODE_ID: "2",
        DENGINE_INITIAL_CLUSTER: "1=10.0.0.1:9081,2=10.0.0.2:9082",
      }),
    );
    expect(o.address).toBe("10.0.0.2:9082");
    expect(o.initialMembers).toHaveLength(2);
  });

  it("a joining node passes no initial members", () => {
    const o = toNodeOptions(load({ DENGINE_JOIN: "true", DENGINE_NODE_ID: "4" }));
    expect(o.join).toBe(true);
    expect(o).not.toHaveProperty("initialMembers");
  });

  it("disabled snapshots keep their log tail setting", () => {
    const o = toNodeOptions(load({ DENGINE_SNAPSHOT_POLICY: "disabled" }));
    expect(o.snapshots).toEqual({ policy: "disabled", keepEntries: 1_000 });
  });

  it("compaction: 0 leaves a measure out, disabled is false", () => {
    expect(
      toNodeOptions(
        load({ DENGINE_COMPACTION_KEEP_REVISIONS: "0", DENGINE_COMPACTION_RETENTION_MS: "60000" }),
      ).compaction,
    ).toEqual({ retentionMs: 60_000 });
    expect(toNodeOptions(load({ DENGINE_COMPACTION_ENABLED: "false" })).compaction).toBe(false);
  });
});
