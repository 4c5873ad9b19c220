// Rules that relate settings to each other, checked once each setting is valid on its own.
// Each names every setting involved, so the error can say where those values came from.
import { formatHostPort, isWildcardHost, parseHostPort } from "./address.js";
import { METRICS_PORT_OFFSET } from "./defaults.js";
import { METRICS_OFF, type Member, type ParsedConfig } from "./schema.js";

export interface CrossIssue {
  /** The settings involved, the one to fix first. */
  readonly paths: readonly string[];
  readonly message: string;
}

export interface Resolved {
  readonly advertise: string;
  /** Whether node.advertise was not set and copies node.listen. */
  readonly advertiseDerived: boolean;
  readonly initial: readonly Member[];
  /** Whether cluster.initial was not set and is this node alone. */
  readonly initialDerived: boolean;
  /** metrics.listen as set or derived; undefined when it could not be derived. */
  readonly metricsListen: string | undefined;
}

export function checkConfig(c: ParsedConfig, r: Resolved): CrossIssue[] {
  const issues: CrossIssue[] = [];
  const add = (paths: string[], message: string) => issues.push({ paths, message });

  if (c.raft.electionTicks <= c.raft.heartbeatTicks) {
    add(
      ["raft.electionTicks", "raft.heartbeatTicks"],
      `raft.electionTicks must be > raft.heartbeatTicks (got ${c.raft.electionTicks} <= ${c.raft.heartbeatTicks})`,
    );
  }
  if (c.reads.defaultConsistency === "lease" && !c.raft.checkQuorum) {
    add(
      ["reads.defaultConsistency", "raft.checkQuorum"],
      'reads.defaultConsistency "lease" requires raft.checkQuorum = true (got false)',
    );
  }

  const advertiseHost = parseHostPort(r.advertise)?.host ?? "";
  if (isWildcardHost(advertiseHost)) {
    if (r.advertiseDerived) {
      add(
        ["node.advertise", "node.listen"],
        `node.advertise must be set when node.listen is a wildcard address (node.listen is "${c.node.listen}"): peers and clients cannot connect to it`,
      );
    } else {
      add(
        ["node.advertise"],
        `node.advertise must be an address peers and clients can reach, not a wildcard (got "${r.advertise}")`,
      );
    }
  }

  if (!r.initialDerived) {
    const seenIds = new Set<number>();
    const byAddress = new Map<string, number>();
    r.initial.forEach((m, i) => {
      if (seenIds.has(m.id)) {
        add(["cluster.initial"], `cluster.initial lists node id ${m.id} more than once`);
      }
      seenIds.add(m.id);
      const other = byAddress.get(m.address);
      if (other !== undefined && other !== m.id) {
        add(
          ["cluster.initial"],
          `cluster.initial gives nodes ${other} and ${m.id} the same address ${m.address}`,
        );
      }
      byAddress.set(m.address, m.id);
      if (isWildcardHost(parseHostPort(m.address)?.host ?? "")) {
        add(
          [`cluster.initial[${i}].address`],
          `cluster.initial[${i}].address must be an address peers can reach, not a wildcard (got "${m.address}")`,
        );
      }
    });
    const self = r.initial.find((m) => m.id === c.node.id);
    if (!self && !c.cluster.join) {
      add(
        ["cluster.initial", "node.id", "cluster.join"],
        `cluster.initial must include this node (node.id ${c.node.id}) unless cluster.join is true (it lists ${r.initial.map((m) => m.id).join(", ")})`,
      );
    }
    if (self && self.address !== r.advertise) {
      const addressPath = r.advertiseDerived ? "node.listen" : "node.advertise";
      add(
        ["cluster.initial", addressPath],
        `cluster.initial gives this node (${c.node.id}) the address ${self.address}, but ${addressPath} is ${r.advertise}: they must match`,
      );
    }
  }

  if (c.snapshots.policy === "log-size" && c.snapshots.keepEntries >= c.snapshots.maxLogEntries) {
    add(
      ["snapshots.keepEntries", "snapshots.maxLogEntries"],
      `snapshots.keepEntries must be < snapshots.maxLogEntries (got ${c.snapshots.keepEntries} >= ${c.snapshots.maxLogEntries})`,
    );
  }
  if (c.compaction.enabled && c.compaction.keepRevisions === 0 && c.compaction.retentionMs === 0) {
    add(
      ["compaction.keepRevisions", "compaction.retentionMs", "compaction.enabled"],
      "compaction.keepRevisions and compaction.retentionMs are both 0 while compaction.enabled is true: set one of them, or set compaction.enabled = false",
    );
  }
  if (r.metricsListen === undefined) {
    add(
      ["metrics.listen", "node.listen"],
      `metrics.listen must be set when node.listen's port is above ${65535 - METRICS_PORT_OFFSET} (its default is the node's port + ${METRICS_PORT_OFFSET}; got node.listen "${c.node.listen}")`,
    );
  } else if (r.metricsListen !== METRICS_OFF) {
    const m = parseHostPort(r.metricsListen);
    const n = parseHostPort(c.node.listen);
    const overlap =
      m && n && m.host === n.host
        ? true
        : isWildcardHost(m?.host ?? "") || isWildcardHost(n?.host ?? "");
    if (m && n && m.port === n.port && overlap) {
      add(
        ["metrics.listen", "node.listen"],
        `metrics.listen must not use node.listen's port (both are ${r.metricsListen} and ${c.node.listen})`,
      );
    }
  }
  for (const name of ["maxKeyBytes", "maxValueBytes"] as const) {
    if (c.limits[name] > c.limits.maxRequestBytes) {
      add(
        [`limits.${name}`, "limits.maxRequestBytes"],
        `limits.${name} must be <= limits.maxRequestBytes (got ${c.limits[name]} > ${c.limits.maxRequestBytes})`,
      );
    }
  }
  return issues;
}

/** metrics.listen's default: loopback (metrics stay private unless asked) at node.listen's port + 100. */
export function defaultMetricsListen(nodeListen: string): string | undefined {
  const port = (parseHostPort(nodeListen)?.port ?? 0) + METRICS_PORT_OFFSET;
  return port <= 65535 ? formatHostPort("127.0.0.1", port) : undefined;
}
