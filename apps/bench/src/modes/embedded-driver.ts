// One embedded d-engine node in its own process (startNetworkedEngine: fsync on, peers over
// Connect-RPC), driven by the benchmark over IPC. On the leader, "run" runs the load here, through
// the in-process client, and answers with the figures: the clients live in the leader's process.
import { startNetworkedEngine } from "@d-engine/engine";
import { type LoadResult, runLoad, type Target, warmUp } from "../load/run-load.js";
import type { LoadSpec } from "../scenarios.js";

export type DriverRequest =
  | { readonly id: number; readonly op: "status" }
  | { readonly id: number; readonly op: "warmup"; readonly spec: LoadSpec }
  | { readonly id: number; readonly op: "run"; readonly spec: LoadSpec }
  | { readonly id: number; readonly op: "preload"; readonly spec: LoadSpec }
  | { readonly id: number; readonly op: "stop" };

export interface DriverStatus {
  readonly id: number;
  readonly role: string;
  readonly leaderId: number;
}

export interface DriverReply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: DriverStatus | LoadResult | boolean | string;
  readonly error?: string;
}

const [nodeId, address, initial, dataDir, flag] = process.argv.slice(2);
if (!nodeId || !address || !initial || !dataDir) {
  console.error("usage: embedded-driver <id> <host:port> <id=host:port,...> <data-dir>");
  process.exit(2);
}
const [host, port] = address.split(":");
const net = await startNetworkedEngine({
  nodeId: Number(nodeId),
  clusterId: "bench",
  address,
  initialMembers: initial.split(",").map((m) => {
    const [id, addr] = m.split("=");
    return { id: Number(id), address: String(addr) };
  }),
  dataDir,
  stateMachineFsync: flag === "--state-machine-fsync",
  listen: { host: String(host), port: Number(port) },
});
const client = net.client;
const READ_OPTIONS = {
  linearizable: { consistency: "linearizable" },
  lease: { consistency: "lease" },
  eventual: { consistency: "eventual" },
} as const;

// In-process there is no connection to share: every logical client calls the same client.
const target: Target = {
  connections: 1,
  put: (_conn, key, value) => client.put(key, value),
  get: (_conn, key, consistency) => client.get(key, READ_OPTIONS[consistency]),
};

async function handle(req: DriverRequest): Promise<DriverReply["value"]> {
  switch (req.op) {
    case "status": {
      const s = await client.cluster.status();
      return { id: s.id, role: s.role, leaderId: s.leaderId };
    }
    case "warmup":
      await warmUp(req.spec, target, 1);
      return true;
    case "run":
      return runLoad(req.spec, target);
    case "preload": {
      const r = await runLoad(req.spec, target);
      if (r.errors > 0) throw new Error(`preload failed: ${r.firstError}`);
      return true;
    }
    case "stop":
      await net.stop({ transferLeadership: false });
      setImmediate(() => process.exit(0));
      return true;
  }
}

process.on("message", (req: DriverRequest) => {
  handle(req).then(
    (value) => process.send?.({ id: req.id, ok: true, value } satisfies DriverReply),
    (e: unknown) =>
      process.send?.({
        id: req.id,
        ok: false,
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      } satisfies DriverReply),
  );
});
// The parent going away (a crash, a SIGKILL) must not leave this node running.
process.on("disconnect", () => process.exit(0));
process.send?.({ id: 0, ok: true, value: "ready" } satisfies DriverReply);
