// The shape of a d-engine server configuration, validated with zod after all sources are merged
// (see load.ts). Objects are strict so a misspelt setting in a config file is an error, not a
// silently ignored line. Relations between settings are checked in checks.ts.
import { z } from "zod";
import { parseHostPort } from "./address.js";

export const ADDRESS_RULE = "must be host:port with a port from 1 to 65535";

const address = z.string().refine((s) => parseHostPort(s) !== undefined, ADDRESS_RULE);
const count = (min: number) => z.int().min(min);

export const METRICS_OFF = "off";
export const METRICS_LISTEN_RULE = `must be host:port with a port from 1 to 65535, or "${METRICS_OFF}"`;
const metricsListen = z
  .string()
  .refine((s) => s === METRICS_OFF || parseHostPort(s) !== undefined, METRICS_LISTEN_RULE);

const ORIGIN_RULE =
  'must be "*" or an origin such as "https://app.example.com" (scheme, host and port only)';
/** A web origin as browsers send it (`new URL(o).origin === o`), or "*" for any. */
const origin = z.string().refine((s) => s === "*" || isOrigin(s), ORIGIN_RULE);

function isOrigin(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.origin === s;
  } catch {
    return false;
  }
}

export const READ_CONSISTENCIES = ["linearizable", "lease", "eventual"] as const;
export const SNAPSHOT_POLICIES = ["log-size", "disabled"] as const;
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const memberSchema = z.strictObject({
  id: count(1),
  address,
});

export const configSchema = z.strictObject({
  node: z.strictObject({
    id: count(1),
    clusterId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1 to 64 letters, digits, '.', '_' or '-'"),
    listen: address,
    /** Where peers and clients reach this node; absent: the listen address. */
    advertise: address.optional(),
    dataDir: z.string().min(1),
    /** fsync the state machine on every applied batch (default: in the background). */
    stateMachineFsync: z.boolean(),
  }),
  cluster: z.strictObject({
    /** Absent (and not joining): a single-node cluster of this node. */
    initial: z.array(memberSchema).min(1).optional(),
    join: z.boolean(),
  }),
  raft: z.strictObject({
    tickMs: count(1).max(60_000),
    electionTicks: count(2),
    heartbeatTicks: count(1),
    preVote: z.boolean(),
    checkQuorum: z.boolean(),
    commitBroadcastDelayMs: count(0).max(1000),
    followerApplyDelayMs: count(0).max(1000),
  }),
  reads: z.strictObject({
    defaultConsistency: z.enum(READ_CONSISTENCIES),
    allowOverride: z.boolean(),
  }),
  snapshots: z.strictObject({
    policy: z.enum(SNAPSHOT_POLICIES),
    maxLogEntries: count(1),
    cooldownMs: count(0),
    keepEntries: count(0),
  }),
  compaction: z.strictObject({
    enabled: z.boolean(),
    keepRevisions: count(0),
    retentionMs: count(0),
  }),
  learners: z.strictObject({
    autoPromote: z.boolean(),
    maxLagEntries: count(0),
  }),
  limits: z.strictObject({
    maxKeyBytes: count(1),
    maxValueBytes: count(1),
    maxRequestBytes: count(1),
    maxTxnOps: count(1),
    maxGetManyKeys: count(1),
  }),
  backpressure: z.strictObject({
    maxPendingWrites: count(1),
    maxPendingReads: count(1),
    retryAfterMs: count(1),
  }),
  requests: z.strictObject({
    timeoutMs: count(1),
  }),
  leases: z.strictObject({
    checkpointIntervalMs: count(100),
  }),
  log: z.strictObject({
    level: z.enum(LOG_LEVELS),
  }),
  metrics: z.strictObject({
    /** HTTP/1.1 /metrics and /health; absent: 127.0.0.1 at node.listen's port + 100; "off". */
    listen: metricsListen.optional(),
  }),
  browsers: z.strictObject({
    /** Origins whose web pages may call the client services (CORS); empty: none. */
    allowedOrigins: z.array(origin),
  }),
});

/** The configuration as validated, before defaults that depend on other settings are filled. */
export type ParsedConfig = z.infer<typeof configSchema>;

export interface Member {
  readonly id: number;
  readonly address: string;
}

/** The configuration a server runs with: validated, derived defaults filled, paths absolute. */
export interface ServerConfig extends Omit<ParsedConfig, "node" | "cluster" | "metrics"> {
  readonly node: Omit<ParsedConfig["node"], "advertise"> & { readonly advertise: string };
  readonly cluster: {
    /** The initial voters; for a joining node, whatever was given (possibly none). */
    readonly initial: readonly Member[];
    readonly join: boolean;
  };
  readonly metrics: {
    /** Where /metrics and /health are served (host:port), or "off". */
    readonly listen: string;
  };
}
