// lease grant, revoke, keep-alive, list and timetolive against a one-node engine in memory.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliHarness } from "../../../test/support/cli-harness.js";

let h: CliHarness;
beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(async () => {
  await h?.stop();
});

describe("lease", () => {
  it("grants, lists, shows the time to live with keys, revokes (deleting the keys)", async () => {
    const g = await h.run(["lease", "grant", "60"]);
    expect(g.code).toBe(0);
    const id = Number(/^lease (\d+) granted with TTL 60s\n$/.exec(g.out)?.[1]);
    expect(id).toBeGreaterThan(0);
    expect((await h.run(["put", "l/k", "v", "--lease", String(id)])).code).toBe(0);

    const list = await h.run(["lease", "list"]);
    expect(list.out).toMatch(new RegExp(`^ID +GRANTED-TTL\\n.*\\b${id} +60s$`, "ms"));
    const ttl = await h.run(["lease", "timetolive", String(id), "--keys"]);
    expect(ttl.out).toMatch(new RegExp(`^lease ${id}: \\d+s left of 60s\\nKEY\\nl/k\\n$`));
    const ttlJson = JSON.parse(
      (await h.run(["lease", "timetolive", `0x${id.toString(16)}`, "--keys", "--json"])).out,
    );
    expect(ttlJson).toMatchObject({ id, grantedTtlSeconds: 60, keys: [{ key: "l/k" }] });

    const revoked = await h.run(["lease", "revoke", String(id), "--json"]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.out)).toEqual({ id, revision: expect.any(Number) });
    expect(await h.client.get("l/k")).toBeUndefined();
    expect((await h.run(["lease", "timetolive", String(id)])).out).toBe(
      `lease ${id} does not exist (expired or revoked)\n`,
    );
    const again = await h.run(["lease", "revoke", String(id)]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^d-engine lease revoke: .+ \(kv\)\n$/);
  });

  it("grants with a chosen id; keep-alive --once renews", async () => {
    const g = JSON.parse((await h.run(["lease", "grant", "30", "--id", "4242", "--json"])).out);
    expect(g).toEqual({ id: 4242, ttlSeconds: 30 });
    expect((await h.run(["lease", "keep-alive", "4242", "--once"])).out).toBe(
      "lease 4242 renewed, TTL 30s\n",
    );
  });

  it("keep-alive prints renewals until Ctrl-C, then exits 0", async () => {
    const { id } = await h.client.leases.grant(30);
    const stop = new AbortController();
    const r = await h.run(["lease", "keep-alive", String(id), "--json"], {
      interrupt: stop.signal,
      onOut: (t) => {
        if (t.includes('"renewed"')) stop.abort();
      },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.split("\n")[0] as string)).toEqual({
      event: "renewed",
      id,
      ttlSeconds: 30,
    });
  });

  it("keep-alive exits 1 with the reason when the lease is lost", async () => {
    // A short TTL: the keeper renews every third of it and learns of the revocation then.
    const { id } = await h.client.leases.grant(2);
    const r = await h.run(["lease", "keep-alive", String(id)], {
      onOut: (t) => {
        // Revoked under the keeper's feet once it has renewed once.
        if (t.startsWith(`lease ${id} renewed`)) void h.client.leases.revoke(id);
      },
    });
    expect(r.code).toBe(1);
    expect(r.out.split("\n")[0]).toBe(`lease ${id} renewed, TTL 2s`);
    expect(r.err).toMatch(new RegExp(`^lease ${id} lost: .+\\n$`));
  });

  it("refuses a TTL or id that is not a positive number (exit 2)", async () => {
    expect((await h.run(["lease", "grant", "0"])).code).toBe(2);
    const bad = await h.run(["lease", "revoke", "xyz"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("Expected a lease id");
  });
});
