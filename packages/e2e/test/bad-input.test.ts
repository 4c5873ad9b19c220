// Issue 5, test 5: bad input gets a clear error, no crash, nothing lost: malformed requests,
// oversized values, unknown methods, wrong config, a peer from another cluster.
import { connect, constants } from "node:http2";
import { createClient as createRpcClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { type DEngineClient, LimitExceededError, text } from "@d-engine/client";
import { KvService } from "@d-engine/proto/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../src/cluster.js";
import { freePorts } from "../src/ports.js";
import { ServerProcess } from "../src/server-process.js";
import { waitFor } from "../src/wait.js";

let cluster: LocalCluster;
let client: DEngineClient;

beforeAll(async () => {
  cluster = await LocalCluster.start({ size: 3 });
  client = cluster.client();
  await client.put("precious", "kept");
});

afterAll(async () => {
  await cluster?.stop();
});

/** A raw HTTP/2 POST; resolves with the status and body. */
async function post(
  address: string,
  path: string,
  body: Uint8Array,
  contentType = "application/proto",
): Promise<{ status: number; body: string }> {
  const session = connect(`http://${address}`);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({
        [constants.HTTP2_HEADER_METHOD]: "POST",
        [constants.HTTP2_HEADER_PATH]: path,
        "content-type": contentType,
      });
      let status = 0;
      let out = "";
      req.on("response", (h) => {
        status = Number(h[constants.HTTP2_HEADER_STATUS]);
      });
      req.on("data", (d: Buffer) => {
        out += d.toString();
      });
      req.on("end", () => resolve({ status, body: out }));
      req.on("error", reject);
      req.end(body);
    });
  } finally {
    session.close();
  }
}

async function stillServing(): Promise<void> {
  const kv = await client.get("precious");
  expect(kv && text(kv.value)).toBe("kept");
  for (const n of cluster.nodes.values())
    expect(n.process.running, `node ${n.id} is running`).toBe(true);
}

describe("bad input", () => {
  it("a malformed request body gets invalid_argument and the node keeps serving", async () => {
    const leader = await cluster.waitForLeader();
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99]);
    const r = await post(cluster.node(leader).address, "/dengine.api.v1.KvService/Put", garbage);
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/invalid_argument/);
    await stillServing();
  });

  it("an unknown method answers 404", async () => {
    const leader = await cluster.waitForLeader();
    const r = await post(
      cluster.node(leader).address,
      "/dengine.api.v1.KvService/Nope",
      new Uint8Array(),
    );
    expect(r.status).toBe(404);
    await stillServing();
  });

  it("an oversized value is refused naming the limit, by the client and by the server", async () => {
    const big = new Uint8Array(2 * 1024 * 1024);
    const e = await client.put("big", big).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LimitExceededError);
    expect((e as LimitExceededError).limitName).toBe("maxValueBytes");
    expect((e as LimitExceededError).actual).toBe(big.length);
    // Bypassing the SDK's own check, the server refuses it the same way.
    const leader = await cluster.waitForLeader();
    const raw = createRpcClient(
      KvService,
      createConnectTransport({
        baseUrl: `http://${cluster.node(leader).address}`,
        httpVersion: "2",
      }),
    );
    const se = await raw
      .put({ key: new TextEncoder().encode("big"), value: big })
      .catch((x: unknown) => x);
    expect(String(se)).toMatch(/maxValueBytes/);
    expect(await client.get("big")).toBeUndefined();
    await stillServing();
  });

  it("a wrong config exits with a message naming the setting", async () => {
    const p = new ServerProcess("bad config", [
      "start",
      "--election-ticks",
      "2",
      "--heartbeat-ticks",
      "5",
    ]);
    p.start();
    const code = await p.exited();
    expect(code).toBe(2);
    expect(p.log).toMatch(/electionTicks/);
    expect(p.log).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("a peer from another cluster is refused; the cluster keeps serving", async () => {
    const [port] = await freePorts(1);
    const stranger = `127.0.0.1:${port}`;
    const members = [...cluster.nodes.values()].map((n) => `${n.id}=${n.address}`);
    // Node 9 of cluster "other", which believes the cluster's nodes are its peers.
    const p = new ServerProcess("stranger", [
      "start",
      "--id",
      "9",
      "--cluster-id",
      "other",
      "--listen",
      stranger,
      "--data-dir",
      `${cluster.dir}/stranger`,
      "--initial-cluster",
      [...members, `9=${stranger}`].join(","),
    ]);
    p.start();
    try {
      await waitFor(
        "a cluster node to log the refused stranger",
        () =>
          [...cluster.nodes.values()].some(
            (n) => /other/.test(n.process.log) && /cluster/i.test(n.process.log),
          ),
        20_000,
      );
      await stillServing();
      expect(await cluster.waitForLeader()).not.toBe(9);
    } finally {
      await p.kill();
    }
  });
});
