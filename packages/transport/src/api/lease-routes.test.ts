// LeaseService through the network client and a raw Connect client over real HTTP/2 on
// 127.0.0.1, with the in-memory fake API: every call round-trips with its options, typed errors
// arrive as the same classes, followers redirect, and the bidirectional keep-alive stream
// answers in order, reporting a refused renewal on the stream.
import { createClient as createConnectClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  createClient,
  InvalidArgumentError,
  KvCommandError,
  type NetworkClient,
  text,
} from "@d-engine/client";
import { LeaseService } from "@d-engine/proto/api";
import { describe, expect, it } from "vitest";
import type { NodeServer } from "../server/node-server.js";
import { FakeApi } from "../testing/fake-api.js";
import { cleanupsAfterEach, serveFakeApi } from "../testing/serve-fake-api.js";
import { waitFor } from "../testing/wait.js";

const cleanups = cleanupsAfterEach();

function serve(api: FakeApi): Promise<NodeServer> {
  return serveFakeApi(api, cleanups, { asLeader: true });
}

function client(endpoints: string[], protocol: "connect" | "grpc" = "connect"): NetworkClient {
  const c = createClient({ endpoints, protocol });
  cleanups.push(() => c.close());
  return c;
}

describe("LeaseService", () => {
  for (const protocol of ["connect", "grpc"] as const) {
    it(`round-trips grant, keep-alive, time-to-live, list and revoke (${protocol})`, async () => {
      const api = new FakeApi(1);
      const server = await serve(api);
      const c = client([server.address], protocol);
      expect(await c.leases.grant(10)).toEqual({ id: 100, ttlSeconds: 10 });
      expect(await c.leases.grant(20, { id: 7 })).toEqual({ id: 7, ttlSeconds: 20 });
      // Grants carry the client's write session (a retry applies once).
      const grantOpts = api.leases.calls.find((k) => k.method === "leaseGrant")?.opts as {
        session?: { clientId: string };
      };
      expect(grantOpts.session?.clientId).toBe(c.clientId);
      await expect(c.leases.grant(20, { id: 7 })).rejects.toMatchObject({
        kvCode: "lease-exists",
      });
      await expect(c.leases.grant(0)).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await c.leases.keepAliveOnce(7)).toEqual({ id: 7, ttlSeconds: 20 });
      const ttl = await c.leases.timeToLive(7, { keys: true });
      expect(ttl).toMatchObject({ id: 7, ttlSeconds: 20, grantedTtlSeconds: 20 });
      expect(ttl.keys.map(text)).toEqual(["key-of-7"]);
      expect((await c.leases.timeToLive(999)).ttlSeconds).toBe(-1);
      expect((await c.leases.list()).map((l) => l.id)).toEqual([100, 7]);
      expect(await c.leases.revoke(7)).toEqual({ revision: 1 });
      const gone = await c.leases.keepAliveOnce(7).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(KvCommandError);
      expect((gone as KvCommandError).kvCode).toBe("lease-not-found");
    });
  }

  it("a follower redirects lease calls to the leader; the keeper renews there", async () => {
    const leaderApi = new FakeApi(1);
    const leaderServer = await serve(leaderApi);
    const followerApi = new FakeApi(2);
    const followerServer = await serve(followerApi);
    followerApi.leases.notLeader = { id: 1, address: leaderServer.address };
    followerApi.notLeader = { id: 1, address: leaderServer.address };
    const c = client([followerServer.address]);
    const g = await c.leases.grant(3);
    expect(leaderApi.leases.leases.get(g.id)).toBe(3);
    const keeper = c.leases.keepAlive(g.id);
    cleanups.push(() => keeper.stop());
    let renewed = 0;
    keeper.on("renewed", () => renewed++);
    await waitFor(() => renewed >= 2, "two renewals");
    expect(leaderApi.leases.calls.filter((k) => k.method === "leaseKeepAliveOnce").length).toBe(
      renewed,
    );
    // Revoked on the server: the keeper learns at its next renewal that the lease is gone.
    await c.leases.revoke(g.id);
    await expect(keeper.lost).resolves.toMatchObject({ reason: expect.stringMatching(/gone/) });
  });

  it("the keep-alive stream answers each request in order and reports refusals on the stream", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    api.leases.leases.set(5, 9);
    api.leases.leases.set(6, 4);
    const transport = createConnectTransport({
      baseUrl: `http://${server.address}`,
      httpVersion: "2",
    });
    const raw = createConnectClient(LeaseService, transport);
    async function* requests() {
      yield { id: 5n };
      yield { id: 404n };
      yield { id: 6n };
    }
    const answers: { id: bigint; ttl: bigint; kvError: string }[] = [];
    for await (const r of raw.leaseKeepAlive(requests())) {
      answers.push({ id: r.id, ttl: r.ttlSeconds, kvError: r.kvError });
    }
    expect(answers).toEqual([
      { id: 5n, ttl: 9n, kvError: "" },
      { id: 404n, ttl: 0n, kvError: "lease-not-found" },
      { id: 6n, ttl: 4n, kvError: "" },
    ]);
  });
});
