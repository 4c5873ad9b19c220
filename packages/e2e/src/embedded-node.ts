// A child process running one networked embedded engine, driven by its parent over IPC: the
// parent sends { id, op, args } and gets { id, ok, value | error } back. This is what an
// application embedding d-engine looks like from the outside (test 6 of issue 5).
import { isDEngineError, text } from "@d-engine/client";
import { startNetworkedEngine } from "@d-engine/engine";

interface Request {
  readonly id: number;
  readonly op: "put" | "get" | "cas" | "status" | "stop";
  readonly args: readonly unknown[];
}

const [nodeId, clusterId, address, initial, dataDir] = process.argv.slice(2);
if (!nodeId || !clusterId || !address || !initial || !dataDir) {
  console.error("usage: embedded-node <id> <cluster-id> <host:port> <id=host:port,...> <data-dir>");
  process.exit(2);
}
const [host, port] = address.split(":");
const initialMembers = initial.split(",").map((m) => {
  const [id, addr] = m.split("=");
  return { id: Number(id), address: String(addr) };
});

const net = await startNetworkedEngine({
  nodeId: Number(nodeId),
  clusterId,
  address,
  initialMembers,
  dataDir,
  listen: { host: String(host), port: Number(port) },
});
const client = net.client;

async function run(req: Request): Promise<unknown> {
  const [a, b, c] = req.args as [string, string | undefined, string | undefined];
  switch (req.op) {
    case "put":
      return (await client.put(a, b ?? "")).revision;
    case "get": {
      const kv = await client.get(a, { consistency: (b ?? "linearizable") as "linearizable" });
      return kv ? text(kv.value) : null;
    }
    case "cas":
      return (await client.compareAndSwap(a, b ?? undefined, c ?? "")).succeeded;
    case "status":
      return net.engine.node.status();
    case "stop":
      await net.stop({ transferLeadership: false });
      setImmediate(() => process.exit(0));
      return true;
  }
}

process.on("message", (req: Request) => {
  run(req).then(
    (value) => process.send?.({ id: req.id, ok: true, value }),
    (e: unknown) =>
      process.send?.({
        id: req.id,
        ok: false,
        error: isDEngineError(e) ? `${e.name}: ${e.message}` : String(e),
      }),
  );
});
process.send?.({ id: 0, ok: true, value: "ready" });
