import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LIMITS } from "@d-engine/client";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";
import type { ConfigSources } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "d-engine-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

function load(sources: ConfigSources = {}) {
  return loadConfig({ cwd: dir, env: {}, ...sources });
}

/** The lines of the ConfigError that loading throws. */
function errors(sources: ConfigSources): string[] {
  try {
    load(sources);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split("\n");
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("with no configuration at all", () => {
  it("runs one durable node, id 1, on 127.0.0.1:9081, with data under ./data", () => {
    const { config, configFile, warnings } = load();
    expect(configFile).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(config.node).toEqual({
      id: 1,
      clusterId: "d-engine",
      listen: "127.0.0.1:9081",
      advertise: "127.0.0.1:9081",
      dataDir: join(dir, "data"),
      stateMachineFsync: false,
    });
    expect(config.cluster).toEqual({
      initial: [{ id: 1, address: "127.0.0.1:9081" }],
      join: false,
    });
    expect(config.raft).toEqual({
      tickMs: 100,
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: true,
      checkQuorum: true,
      commitBroadcastDelayMs: 2,
      followerApplyDelayMs: 5,
    });
    expect(config.reads).toEqual({ defaultConsistency: "linearizable", allowOverride: true });
    expect(config.snapshots.policy).toBe("log-size");
    expect(config.compaction).toEqual({ enabled: true, keepRevisions: 10_000, retentionMs: 0 });
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config.log.level).toBe("info");
  });

  it("names every value's origin as the default", () => {
    expect(load().originOf("raft.tickMs")).toBe("default");
  });
});

describe("merging order: defaults < file < environment < flags", () => {
  const toml = () =>
    file("order.toml", '[node]\nid = 2\nclusterId = "from-file"\n[raft]\ntickMs = 50\n');

  it("a file overrides defaults and keeps the defaults it does not mention", () => {
    const { config, originOf } = load({
      configFile: toml(),
      flags: { initialCluster: "2=127.0.0.1:9081" },
    });
    expect(config.node.id).toBe(2);
    expect(config.raft.tickMs).toBe(50);
    expect(config.raft.electionTicks).toBe(10);
    expect(originOf("raft.tickMs")).toBe("config file order.toml");
    expect(originOf("raft.electionTicks")).toBe("default");
  });

  it("the environment overrides the file, and flags override both", () => {
    const { config, originOf } = load({
      configFile: toml(),
      env: { DENGINE_CLUSTER_ID: "from-env", DENGINE_RAFT_TICK_MS: "40", DENGINE_NODE_ID: "3" },
      flags: { clusterId: "from-flag", initialCluster: "3=127.0.0.1:9081" },
    });
    expect(config.node.clusterId).toBe("from-flag");
    expect(config.raft.tickMs).toBe(40);
    expect(config.node.id).toBe(3);
    expect(originOf("node.clusterId")).toBe("flag --cluster-id");
    expect(originOf("raft.tickMs")).toBe("environment DENGINE_RAFT_TICK_MS");
  });

  it("the file can be named by DENGINE_CONFIG, and --config wins over it", () => {
    file("env.yaml", "raft:\n  tickMs: 70\n");
    file("flag.yaml", "raft:\n  tickMs: 80\n");
    expect(load({ env: { DENGINE_CONFIG: "env.yaml" } }).config.raft.tickMs).toBe(70);
    expect(
      load({ env: { DENGINE_CONFIG: "env.yaml" }, configFile: "flag.yaml" }).config.raft.tickMs,
    ).toBe(80);
  });

  it("a higher layer replaces the initial cluster whole, not entry by entry", () => {
    const f = file(
      "members.toml",
      '[[cluster.initial]]\nid = 1\naddress = "127.0.0.1:9081"\n[[cluster.initial]]\nid = 2\naddress = "127.0.0.1:9082"\n',
    );
    const { config } = load({
      configFile: f,
      env: { DENGINE_INITIAL_CLUSTER: "1=127.0.0.1:9081" },
    });
    expect(config.cluster.initial).toEqual([{ id: 1, address: "127.0.0.1:9081" }]);
  });

  it("--no-x flags set false over a true from the file", () => {
    const f = file("bools.toml", "[raft]\npreVote = true\n");
    const { config, originOf } = load({ configFile: f, flags: { preVote: false } });
    expect(config.raft.preVote).toBe(false);
    expect(originOf("raft.preVote")).toBe("flag --no-pre-vote");
  });
});

describe("config files", () => {
  it("reads a three-node TOML file", () => {
    const f = file(
      "node2.toml",
      [
        "[node]",
        "id = 2",
        'clusterId = "prod"',
        'listen = "0.0.0.0:9082"',
        'advertise = "10.0.0.2:9082"',
        'dataDir = "/var/lib/d-engine"',
        "[cluster]",
        "initial = [",
        '  { id = 1, address = "10.0.0.1:9081" },',
        '  { id = 2, address = "10.0.0.2:9082" },',
        '  { id = 3, address = "10.0.0.3:9083" },',
        "]",
        "[reads]",
        'defaultConsistency = "lease"',
        "[snapshots]",
        'policy = "disabled"',
        "[compaction]",
        "keepRevisions = 0",
        "retentionMs = 3600000",
        "[log]",
        'level = "debug"',
      ].join("\n"),
    );
    const { config } = load({ configFile: f });
    expect(config.node).toEqual({
      id: 2,
      clusterId: "prod",
      listen: "0.0.0.0:9082",
      advertise: "10.0.0.2:9082",
      dataDir: "/var/lib/d-engine",
      stateMachineFsync: false,
    });
    expect(config.cluster.initial.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(config.reads.defaultConsistency).toBe("lease");
    expect(config.snapshots.policy).toBe("disabled");
    expect(config.compaction).toEqual({ enabled: true, keepRevisions: 0, retentionMs: 3_600_000 });
    expect(config.log.level).toBe("debug");
  });

  it("reads YAML (.yaml and .yml), including the initial cluster as a spec string", () => {
    const text = [
      "node:",
      "  id: 3",
      "  listen: 127.0.0.1:9083",
      "cluster:",
      "  initial: 1=127.0.0.1:9081,2=127.0.0.1:9082,3=127.0.0.1:9083",
      "raft:",
      "  preVote: false",
      "limits:",
      "  maxTxnOps: 64",
    ].join("\n");
    for (const name of ["n3.yaml", "n3.yml"]) {
      const { config } = load({ configFile: file(name, text) });
      expect(config.node.id).toBe(3);
      expect(config.cluster.initial).toHaveLength(3);
      expect(config.raft.preVote).toBe(false);
      expect(config.limits.maxTxnOps).toBe(64);
      expect(config.limits.maxKeyBytes).toBe(DEFAULT_LIMITS.maxKeyBytes);
    }
  });

  it("an empty YAML file is no settings", () => {
    expect(load({ configFile: file("empty.yaml", "") }).config.node.id).toBe(1);
  });

  it("relative data dirs resolve against the working directory", () => {
    const f = file("data.toml", '[node]\ndataDir = "nodes/one"\n');
    expect(load({ configFile: f }).config.node.dataDir).toBe(join(dir, "nodes/one"));
  });

  it.each([
    ["missing.toml", null, "config file missing.toml: no such file"],
    [
      "settings.json",
      "{}",
      'config file settings.json: unknown format ".json": name it *.toml, *.yaml or *.yml',
    ],
    ["bad.toml", "[raft]\ntickMs = \n", "config file bad.toml: invalid TOML at line 2, column"],
    ["bad.yaml", "raft: [1\nnode: 2\n", "config file bad.yaml: invalid YAML at line 2, column 1"],
    ["dup.yaml", "log:\n  level: info\nlog:\n  level: debug\n", "Map keys must be unique"],
    [
      "list.yaml",
      "- 1\n- 2\n",
      "config file list.yaml: must hold a table of settings at the top level (got [1,2])",
    ],
  ])("%s: a file that cannot be read names itself", (name, text, expected) => {
    if (text !== null) file(name, text);
    const [line] = errors({ configFile: name });
    expect(line).toContain(expected);
  });
});

describe("environment parsing", () => {
  it("reads every kind of value from DENGINE_* variables", () => {
    const { config } = load({
      env: {
        DENGINE_NODE_ID: "2",
        DENGINE_CLUSTER_ID: "env-cluster",
        DENGINE_LISTEN: "127.0.0.1:9082",
        DENGINE_DATA_DIR: "/tmp/d2",
        DENGINE_INITIAL_CLUSTER: "1=127.0.0.1:9081,2=127.0.0.1:9082,3=127.0.0.1:9083",
        DENGINE_RAFT_PRE_VOTE: "off",
        DENGINE_RAFT_CHECK_QUORUM: "yes",
        DENGINE_READ_CONSISTENCY: "eventual",
        DENGINE_READ_ALLOW_OVERRIDE: "0",
        DENGINE_SNAPSHOT_POLICY: "disabled",
        DENGINE_COMPACTION_ENABLED: "FALSE",
        DENGINE_LIMIT_MAX_VALUE_BYTES: " 2048 ",
        DENGINE_LOG_LEVEL: "warn",
      },
    });
    expect(config.node).toMatchObject({ id: 2, clusterId: "env-cluster", dataDir: "/tmp/d2" });
    expect(config.node.advertise).toBe("127.0.0.1:9082");
    expect(config.cluster.initial).toEqual([
      { id: 1, address: "127.0.0.1:9081" },
      { id: 2, address: "127.0.0.1:9082" },
      { id: 3, address: "127.0.0.1:9083" },
    ]);
    expect(config.raft.preVote).toBe(false);
    expect(config.raft.checkQuorum).toBe(true);
    expect(config.reads).toEqual({ defaultConsistency: "eventual", allowOverride: false });
    expect(config.snapshots.policy).toBe("disabled");
    expect(config.compaction.enabled).toBe(false);
    expect(config.limits.maxValueBytes).toBe(2048);
    expect(config.log.level).toBe("warn");
  });

  it("reads the browsers' allowed origins as a list from the environment, a flag and a file", () => {
    expect(load().config.browsers.allowedOrigins).toEqual([]);
    const env = { DENGINE_ALLOWED_ORIGINS: " https://app.example.com, http://localhost:5173 ," };
    expect(load({ env }).config.browsers.allowedOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:5173",
    ]);
    expect(load({ flags: { allowedOrigins: "*" } }).config.browsers.allowedOrigins).toEqual(["*"]);
    const yaml = file("origins.yaml", "browsers:\n  allowedOrigins: [https://a.example:8443]\n");
    expect(load({ configFile: yaml }).config.browsers.allowedOrigins).toEqual([
      "https://a.example:8443",
    ]);
  });

  it.each([
    ["https://app.example.com/"], // a trailing slash: browsers send no path
    ["https://app.example.com/app"],
    ["app.example.com"],
    ["ftp://app.example.com"],
    ["https://APP.example.com"], // browsers send the host in lower case
  ])("refuses %j as an allowed origin, naming the rule", (bad) => {
    expect(errors({ env: { DENGINE_ALLOWED_ORIGINS: `https://ok.example,${bad}` } })).toEqual([
      `environment DENGINE_ALLOWED_ORIGINS: browsers.allowedOrigins[1] must be "*" or an origin such as "https://app.example.com" (scheme, host and port only) (got "${bad}")`,
    ]);
  });

  it("treats an empty variable as unset", () => {
    expect(load({ env: { DENGINE_ADVERTISE: "", DENGINE_NODE_ID: " " } }).config.node.id).toBe(1);
  });

  it("warns about DENGINE_* variables that are not settings, and ignores other variables", () => {
    const { warnings } = load({ env: { DENGINE_NODEID: "2", PATH: "/bin" } });
    expect(warnings).toEqual([
      "environment DENGINE_NODEID is not a d-engine server setting; ignored",
    ]);
  });

  it("a joining node ignores an initial cluster, with a warning", () => {
    const { config, warnings } = load({
      env: {
        DENGINE_INITIAL_CLUSTER: "1=127.0.0.1:9081",
        DENGINE_JOIN: "true",
        DENGINE_NODE_ID: "4",
      },
    });
    expect(config.cluster.join).toBe(true);
    expect(warnings).toEqual([
      "cluster.initial (from environment DENGINE_INITIAL_CLUSTER) is ignored: a node that joins (cluster.join) starts empty and is added by the leader",
    ]);
  });

  it("a joining node without an initial cluster needs none", () => {
    const { config } = load({ flags: { join: true, id: "4", listen: "127.0.0.1:9084" } });
    expect(config.cluster).toEqual({ initial: [], join: true });
  });
});

describe("validation errors name the setting and where it came from", () => {
  it.each<[string, ConfigSources, string]>([
    [
      "an id that is not a number",
      { env: { DENGINE_NODE_ID: "one" } },
      'environment DENGINE_NODE_ID: node.id must be an integer (got "one")',
    ],
    ["a zero id", { flags: { id: "0" } }, "flag --id: node.id must be >= 1 (got 0)"],
    [
      "a fractional id",
      { flags: { id: "1.5" } },
      'flag --id: node.id must be an integer (got "1.5")',
    ],
    [
      "an unsafe integer",
      { flags: { maxTxnOps: "99999999999999999999" } },
      "flag --max-txn-ops: limits.maxTxnOps must be <= 9007199254740991 (got 100000000000000000000)",
    ],
    [
      "a bad cluster id",
      { flags: { clusterId: "my cluster" } },
      `flag --cluster-id: node.clusterId must be 1 to 64 letters, digits, '.', '_' or '-' (got "my cluster")`,
    ],
    [
      "a listen address without a port",
      { env: { DENGINE_LISTEN: "localhost" } },
      'environment DENGINE_LISTEN: node.listen must be host:port with a port from 1 to 65535 (got "localhost")',
    ],
    [
      "an advertised port out of range",
      { flags: { advertise: "127.0.0.1:70000" } },
      'flag --advertise: node.advertise must be host:port with a port from 1 to 65535 (got "127.0.0.1:70000")',
    ],
    [
      "an empty data dir in a file",
      { configFile: "f-empty-dir.toml" },
      "config file f-empty-dir.toml: node.dataDir must not be empty",
    ],
    [
      "a bool that is not one",
      { env: { DENGINE_RAFT_PRE_VOTE: "maybe" } },
      'environment DENGINE_RAFT_PRE_VOTE: raft.preVote must be true or false (got "maybe")',
    ],
    [
      "an unknown consistency",
      { flags: { readConsistency: "strong" } },
      'flag --read-consistency: reads.defaultConsistency must be one of "linearizable", "lease", "eventual" (got "strong")',
    ],
    [
      "an unknown snapshot policy",
      { env: { DENGINE_SNAPSHOT_POLICY: "daily" } },
      'environment DENGINE_SNAPSHOT_POLICY: snapshots.policy must be one of "log-size", "disabled" (got "daily")',
    ],
    [
      "an unknown log level",
      { flags: { logLevel: "loud" } },
      'flag --log-level: log.level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")',
    ],
    ["a zero tick", { flags: { tickMs: "0" } }, "flag --tick-ms: raft.tickMs must be >= 1 (got 0)"],
    [
      "a negative lag",
      { flags: { learnerMaxLagEntries: "-1" } },
      "flag --learner-max-lag-entries: learners.maxLagEntries must be >= 0 (got -1)",
    ],
    [
      "a malformed initial cluster spec",
      { env: { DENGINE_INITIAL_CLUSTER: "1=127.0.0.1:9081;2=127.0.0.1:9082" } },
      'environment DENGINE_INITIAL_CLUSTER: cluster.initial[0].address must be host:port with a port from 1 to 65535 (got "127.0.0.1:9081;2=127.0.0.1:9082")',
    ],
    [
      "an initial cluster entry without '='",
      { flags: { initialCluster: "1=127.0.0.1:9081,127.0.0.1:9082" } },
      'flag --initial-cluster: cluster.initial must list id=host:port entries separated by commas (entry 2 is "127.0.0.1:9082")',
    ],
    [
      "a bad member id",
      { flags: { initialCluster: "x=127.0.0.1:9081" } },
      'flag --initial-cluster: cluster.initial[0].id must be an integer (got "x")',
    ],
    [
      "a misspelt setting in a file",
      { configFile: "f-typo.toml" },
      "config file f-typo.toml: unknown setting raft.electionTick",
    ],
    [
      "an unknown table in a file",
      { configFile: "f-table.yaml" },
      "config file f-table.yaml: unknown setting tracing",
    ],
    [
      "a table given as a value",
      { configFile: "f-scalar.toml" },
      "config file f-scalar.toml: raft must be a table of settings (got 5)",
    ],
    [
      "an unknown field in a member",
      { configFile: "f-member.yaml" },
      "config file f-member.yaml: unknown setting cluster.initial[0].port",
    ],
    [
      "an empty initial cluster list",
      { configFile: "f-nomembers.yaml" },
      "config file f-nomembers.yaml: cluster.initial must list at least 1 (got [])",
    ],
  ])("%s", (_, sources, expected) => {
    file("f-empty-dir.toml", '[node]\ndataDir = ""\n');
    file("f-typo.toml", "[raft]\nelectionTick = 10\n");
    file("f-table.yaml", "tracing:\n  port: 9100\n");
    file("f-scalar.toml", "raft = 5\n");
    file(
      "f-member.yaml",
      "cluster:\n  initial:\n    - id: 1\n      address: 127.0.0.1:9081\n      port: 1\n",
    );
    file("f-nomembers.yaml", "cluster:\n  initial: []\n");
    expect(errors(sources)).toEqual([expected]);
  });

  it.each<[string, ConfigSources, string]>([
    [
      "election ticks not above heartbeat ticks, both from the file",
      { configFile: "d-engine.toml" },
      "config file d-engine.toml: raft.electionTicks must be > raft.heartbeatTicks (got 3 <= 5)",
    ],
    [
      "election ticks not above heartbeat ticks, from a file and a flag",
      { configFile: "d-engine.toml", flags: { heartbeatTicks: "4", electionTicks: undefined } },
      "flag --heartbeat-ticks and config file d-engine.toml: raft.electionTicks must be > raft.heartbeatTicks (got 3 <= 4)",
    ],
    [
      "election ticks not above the default heartbeat",
      { env: { DENGINE_RAFT_ELECTION_TICKS: "1" } },
      "environment DENGINE_RAFT_ELECTION_TICKS: raft.electionTicks must be >= 2 (got 1)",
    ],
    [
      "lease reads by default without check-quorum",
      { env: { DENGINE_READ_CONSISTENCY: "lease" }, flags: { checkQuorum: false } },
      'flag --no-check-quorum and environment DENGINE_READ_CONSISTENCY: reads.defaultConsistency "lease" requires raft.checkQuorum = true (got false)',
    ],
    [
      "the node missing from the initial cluster",
      { flags: { id: "4", initialCluster: "1=127.0.0.1:9081,2=127.0.0.1:9082,3=127.0.0.1:9083" } },
      "flag --initial-cluster and flag --id: cluster.initial must include this node (node.id 4) unless cluster.join is true (it lists 1, 2, 3)",
    ],
    [
      "a duplicate id in the initial cluster",
      { env: { DENGINE_INITIAL_CLUSTER: "1=127.0.0.1:9081,1=127.0.0.1:9082" } },
      "environment DENGINE_INITIAL_CLUSTER: cluster.initial lists node id 1 more than once",
    ],
    [
      "a duplicate address in the initial cluster",
      { flags: { initialCluster: "1=127.0.0.1:9081,2=127.0.0.1:9081" } },
      "flag --initial-cluster: cluster.initial gives nodes 1 and 2 the same address 127.0.0.1:9081",
    ],
    [
      "the node's address in the initial cluster differs from its listen address",
      { flags: { id: "2", initialCluster: "1=127.0.0.1:9081,2=127.0.0.1:9082" } },
      "flag --initial-cluster: cluster.initial gives this node (2) the address 127.0.0.1:9082, but node.listen is 127.0.0.1:9081: they must match",
    ],
    [
      "the node's address in the initial cluster differs from its advertised address",
      {
        flags: { advertise: "127.0.0.1:9999" },
        env: { DENGINE_INITIAL_CLUSTER: "1=127.0.0.1:9081" },
      },
      "flag --advertise and environment DENGINE_INITIAL_CLUSTER: cluster.initial gives this node (1) the address 127.0.0.1:9081, but node.advertise is 127.0.0.1:9999: they must match",
    ],
    [
      "a wildcard listen address without an advertised one",
      { env: { DENGINE_LISTEN: "0.0.0.0:9081" } },
      'environment DENGINE_LISTEN: node.advertise must be set when node.listen is a wildcard address (node.listen is "0.0.0.0:9081"): peers and clients cannot connect to it',
    ],
    [
      "a wildcard advertised address",
      { flags: { advertise: "[::]:9081" } },
      'flag --advertise: node.advertise must be an address peers and clients can reach, not a wildcard (got "[::]:9081")',
    ],
    [
      "a wildcard address in the initial cluster",
      { flags: { initialCluster: "1=127.0.0.1:9081,2=0.0.0.0:9082" } },
      'flag --initial-cluster: cluster.initial[1].address must be an address peers can reach, not a wildcard (got "0.0.0.0:9082")',
    ],
    [
      "snapshots keeping as many entries as trigger one",
      { flags: { snapshotKeepEntries: "500", snapshotMaxLogEntries: "500" } },
      "flag --snapshot-keep-entries and flag --snapshot-max-log-entries: snapshots.keepEntries must be < snapshots.maxLogEntries (got 500 >= 500)",
    ],
    [
      "compaction on with nothing to keep",
      { env: { DENGINE_COMPACTION_KEEP_REVISIONS: "0" } },
      "environment DENGINE_COMPACTION_KEEP_REVISIONS: compaction.keepRevisions and compaction.retentionMs are both 0 while compaction.enabled is true: set one of them, or set compaction.enabled = false",
    ],
    [
      "a value limit above the request limit",
      { flags: { maxValueBytes: "2000000" } },
      "flag --max-value-bytes: limits.maxValueBytes must be <= limits.maxRequestBytes (got 2000000 > 1572864)",
    ],
    [
      "a key limit above the request limit",
      { env: { DENGINE_LIMIT_MAX_REQUEST_BYTES: "1024", DENGINE_LIMIT_MAX_VALUE_BYTES: "512" } },
      "environment DENGINE_LIMIT_MAX_REQUEST_BYTES: limits.maxKeyBytes must be <= limits.maxRequestBytes (got 4096 > 1024)",
    ],
  ])("%s", (_, sources, expected) => {
    file("d-engine.toml", "[raft]\nelectionTicks = 3\nheartbeatTicks = 5\n");
    expect(errors(sources)).toEqual([expected]);
  });

  it("reports every problem at once, one per line", () => {
    expect(errors({ flags: { id: "x", tickMs: "0" }, env: { DENGINE_LOG_LEVEL: "loud" } })).toEqual(
      [
        'flag --id: node.id must be an integer (got "x")',
        "flag --tick-ms: raft.tickMs must be >= 1 (got 0)",
        'environment DENGINE_LOG_LEVEL: log.level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")',
      ],
    );
  });

  it("turning compaction off accepts keeping nothing", () => {
    const { config } = load({ flags: { compaction: false, compactionKeepRevisions: "0" } });
    expect(config.compaction).toEqual({ enabled: false, keepRevisions: 0, retentionMs: 0 });
  });

  it("a file key named __proto__ is an unknown setting, not a prototype", () => {
    expect(errors({ configFile: file("proto.toml", "[raft]\n__proto__ = 1\n") })).toEqual([
      "config file proto.toml: unknown setting raft.__proto__",
    ]);
  });
});
