// `d-engine status`: one row per node, every member of the cluster (as any node sees it) and
// every endpoint given, each asked for its own status: id, address, role, the leader it knows,
// term, commit and applied index, revision. Exit code 1 when some node did not answer (the
// others are still shown).
import { type DEngineClient, isDEngineError, type NodeStatus } from "@d-engine/client";
import type { Command } from "commander";
import { plural } from "../client/render.js";
import type { ClientCommands } from "../client/run.js";
import { commandPath, EXIT_FAILED, EXIT_OK } from "../client/run.js";
import { formatTable } from "../client/table.js";

interface Target {
  readonly address: string;
  readonly id?: number;
}

export type NodeReport =
  | { readonly address: string; readonly status: NodeStatus }
  | {
      readonly address: string;
      readonly id?: number;
      readonly error: { readonly code: string; readonly message: string };
    };

export function registerStatus(program: Command, c: ClientCommands): void {
  const cmd = c.command(program, "status", "the status of every node: role, leader, term, indexes");
  c.action(cmd, async (ctx) => {
    const client = ctx.client();
    const reports = await statusOfAll(client, ctx.globals.endpoints, ctx.globals.timeoutMs);
    const failed = reports.filter((r) => "error" in r).length;
    if (ctx.globals.json) ctx.json({ nodes: reports.map(reportJson) });
    else ctx.out(statusTable(reports));
    if (failed > 0) {
      ctx.cli.stderr.write(
        `${commandPath(cmd)}: ${plural(failed, "node")} of ${reports.length} did not answer\n`,
      );
      return EXIT_FAILED;
    }
    return EXIT_OK;
  });
}

/** host:port of an endpoint given as host:port or a URL. */
function hostPort(endpoint: string): string {
  return endpoint
    .trim()
    .replace(/^https?:\/\//i, "")
    .replace(/\/+$/, "");
}

/** Asks every member (and every endpoint not among them) for its status, in parallel. */
export async function statusOfAll(
  client: DEngineClient,
  endpoints: readonly string[],
  timeoutMs: number,
): Promise<NodeReport[]> {
  const targets: Target[] = [];
  const seen = new Set<string>();
  try {
    const list = await client.cluster.members({ timeoutMs });
    for (const m of [...list.members].sort((a, b) => a.id - b.id)) {
      targets.push({ address: m.clientAddress, id: m.id });
      seen.add(hostPort(m.clientAddress));
    }
  } catch {
    // No node answered with the member list: ask the endpoints themselves (each row says why).
  }
  for (const e of endpoints) {
    if (!seen.has(hostPort(e))) {
      seen.add(hostPort(e));
      targets.push({ address: e });
    }
  }
  return Promise.all(
    targets.map(async (t): Promise<NodeReport> => {
      try {
        return {
          address: t.address,
          status: await client.cluster.status({ endpoint: t.address, timeoutMs }),
        };
      } catch (e) {
        const code = isDEngineError(e) ? e.code : "error";
        const message = e instanceof Error ? e.message : String(e);
        return {
          address: t.address,
          ...(t.id !== undefined ? { id: t.id } : {}),
          error: { code, message },
        };
      }
    }),
  );
}

function roleOf(s: NodeStatus): string {
  const me = s.members.find((m) => m.id === s.id);
  return me?.role === "learner" ? "learner" : s.role;
}

const COLUMNS = [
  { header: "ID", align: "right" },
  { header: "ADDRESS" },
  { header: "ROLE" },
  { header: "LEADER", align: "right" },
  { header: "TERM", align: "right" },
  { header: "COMMIT", align: "right" },
  { header: "APPLIED", align: "right" },
  { header: "REVISION", align: "right" },
  { header: "ERROR" },
] as const;

export function statusTable(reports: readonly NodeReport[]): string {
  const rows = reports.map((r) =>
    "status" in r
      ? [
          r.status.id,
          r.address,
          roleOf(r.status),
          r.status.leaderId || "none",
          r.status.term,
          r.status.commitIndex,
          r.status.appliedIndex,
          r.status.revision,
          "",
        ]
      : [
          r.id ?? "?",
          r.address,
          "unreachable",
          "",
          "",
          "",
          "",
          "",
          `${r.error.message} (${r.error.code})`,
        ],
  );
  // The ERROR column only when some node failed.
  const failed = reports.some((r) => "error" in r);
  const cols = failed ? COLUMNS : COLUMNS.slice(0, -1);
  return formatTable(cols, failed ? rows : rows.map((r) => r.slice(0, -1)));
}

function reportJson(r: NodeReport): Record<string, unknown> {
  if (!("status" in r)) return { ...r };
  const s = r.status;
  return {
    id: s.id,
    address: r.address,
    clusterId: s.clusterId,
    role: roleOf(s),
    raftRole: s.role,
    leaderId: s.leaderId,
    term: s.term,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    revision: s.revision,
    matchIndex: s.matchIndex,
  };
}
