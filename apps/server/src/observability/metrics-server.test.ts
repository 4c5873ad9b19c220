// The metrics listener over real HTTP/1.1 on 127.0.0.1: /metrics, /health (200 with a leader,
// 503 without), 404 and 405, and close() ends kept-alive connections.
import { request } from "node:http";
import { afterEach, expect, it } from "vitest";
import { type Health, type MetricsServer, startMetricsServer } from "./metrics-server.js";

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function get(
  address: string,
  path: string,
  method = "GET",
): Promise<{ status: number; type: string; body: string }> {
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, method }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        body += d;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

function start(health: () => Health) {
  return startMetricsServer({
    host: "127.0.0.1",
    port: 0,
    metrics: {
      contentType: "text/plain; version=0.0.4; charset=utf-8",
      text: async () => "# HELP x y\n# TYPE x counter\nx 3\n",
    },
    health,
  });
}

const HEALTH: Health = {
  nodeId: 2,
  clusterId: "c",
  role: "follower",
  term: 4,
  leaderId: 1,
  commitIndex: 10,
  appliedIndex: 9,
};

it("serves the metrics text with its content type", async () => {
  server = await start(() => HEALTH);
  const r = await get(server.address, "/metrics");
  expect(r.status).toBe(200);
  expect(r.type).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(r.body).toBe("# HELP x y\n# TYPE x counter\nx 3\n");
});

it("says 200 on /health while the node knows a leader, 503 when it does not", async () => {
  let h: Health = HEALTH;
  server = await start(() => h);
  const ok = await get(server.address, "/health");
  expect(ok.status).toBe(200);
  expect(ok.type).toBe("application/json");
  expect(JSON.parse(ok.body)).toEqual({ status: "ok", hasLeader: true, ...HEALTH });
  h = { ...HEALTH, leaderId: 0, role: "candidate", term: 5 };
  const bad = await get(server.address, "/health");
  expect(bad.status).toBe(503);
  expect(JSON.parse(bad.body)).toMatchObject({ status: "no-leader", hasLeader: false, term: 5 });
});

it("answers 404 elsewhere, 405 to other methods, and HEAD without a body", async () => {
  server = await start(() => HEALTH);
  expect((await get(server.address, "/nope")).status).toBe(404);
  expect((await get(server.address, "/metrics", "POST")).status).toBe(405);
  const head = await get(server.address, "/metrics", "HEAD");
  expect(head.status).toBe(200);
  expect(head.body).toBe("");
});

it("answers 500 when the metrics cannot be produced, and keeps serving", async () => {
  let fail = true;
  const errors: unknown[] = [];
  server = await startMetricsServer({
    host: "127.0.0.1",
    port: 0,
    metrics: {
      contentType: "text/plain",
      text: async () => {
        if (fail) throw new Error("collect failed");
        return "x 1\n";
      },
    },
    health: () => HEALTH,
    onError: (e) => errors.push(e),
  });
  expect((await get(server.address, "/metrics")).status).toBe(500);
  expect((errors[0] as Error).message).toBe("collect failed");
  fail = false;
  expect((await get(server.address, "/metrics")).body).toBe("x 1\n");
});

it("fails to start on a port already taken", async () => {
  server = await start(() => HEALTH);
  const port = Number(server.address.split(":")[1]);
  await expect(
    startMetricsServer({
      host: "127.0.0.1",
      port,
      metrics: { contentType: "text/plain", text: async () => "" },
      health: () => HEALTH,
    }),
  ).rejects.toThrow(/EADDRINUSE/);
});
