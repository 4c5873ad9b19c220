// lock and elect against a one-node engine in memory: holding until Ctrl-C, running a command
// under the lock, waiters in line with increasing fencing tokens, a lost lease, an election
// observed while a candidate leads and resigns.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliHarness } from "../../../test/support/cli-harness.js";

let h: CliHarness;
beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(async () => {
  await h?.stop();
});

describe("lock", () => {
  it("holds the lock until Ctrl-C, then releases it; a waiter then runs its command", async () => {
    const first = h.background(["lock", "L1", "--json"]);
    const acquired = JSON.parse((await first.output(/^.*"acquired".*$/m))[0]);
    expect(acquired).toMatchObject({ event: "acquired", name: "L1" });

    // The second waits in line behind the first, then runs a command holding the lock.
    const second = h.background([
      "lock",
      "L1",
      "--",
      process.execPath,
      "-e",
      "console.log('token ' + process.env.DENGINE_LOCK_REVISION + ' key ' + process.env.DENGINE_LOCK_KEY); process.exit(3)",
    ]);
    // It has not got the lock while the first holds it: its key is queued behind the first's.
    await expect
      .poll(async () => (await h.client.prefix(acquired.key.replace(/[^/]+$/, ""))).count)
      .toBe(2);
    first.stop();
    const r1 = await first.done;
    expect(r1.code).toBe(0);
    expect(
      r1.out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).event),
    ).toEqual(["acquired", "released"]);

    const r2 = await second.done;
    expect(r2.code, r2.err).toBe(3);
    const [locked, ran, unlocked] = r2.out.trim().split("\n");
    const m = /^locked L1: key (\S+), fencing token (\d+)$/.exec(locked ?? "");
    expect(m, r2.out).not.toBeNull();
    expect(Number(m?.[2]), "fencing tokens increase").toBeGreaterThan(acquired.revision);
    expect(ran).toBe(`token ${m?.[2]} key ${m?.[1]}`);
    expect(unlocked).toBe("unlocked L1");
    // Both sessions revoked their leases: nothing is left under the lock.
    expect((await h.client.prefix(acquired.key.replace(/[^/]+$/, ""))).count).toBe(0);
  });

  it("Ctrl-C while waiting exits 1 and leaves the line", async () => {
    const holder = h.background(["lock", "L4", "--json"]);
    const acquired = JSON.parse((await holder.output(/^.*"acquired".*$/m))[0]);
    const queue = acquired.key.replace(/[^/]+$/, "");
    const waiter = h.background(["lock", "L4"]);
    await expect.poll(async () => (await h.client.prefix(queue)).count).toBe(2);
    waiter.stop();
    const r = await waiter.done;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^d-engine lock: interrupted before the lock L4 was acquired \(interrupted\)\n$/,
    );
    expect((await h.client.prefix(queue)).count).toBe(1);
    holder.stop();
    expect((await holder.done).code).toBe(0);
  });

  it("exits 1 when its session's lease is lost while holding", async () => {
    const holder = h.background(["lock", "L2", "--ttl", "2", "--json"]);
    const acquired = JSON.parse((await holder.output(/^.*"acquired".*$/m))[0]);
    await h.client.leases.revoke(acquired.lease);
    const r = await holder.done;
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^lock L2 lost: .+\n$/);
  });

  it("a command that cannot be run fails with exit 1 and releases the lock", async () => {
    const r = await h.run(["lock", "L3", "--", "/nonexistent/program"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^d-engine lock: cannot run \/nonexistent\/program: .*\(ENOENT\)\n$/);
    expect((await h.run(["lock", "L3", "--", process.execPath, "-e", ""])).code).toBe(0);
  });
});

describe("elect", () => {
  it("a listener sees the candidate lead and resign", async () => {
    const listener = h.background(["elect", "E1", "--listen"]);
    await listener.output(/^E1 has no leader$/m);
    const candidate = h.background(["elect", "E1", "alpha"]);
    await candidate.output(/^elected E1: alpha \(key \S+, revision \d+\)$/m);
    await listener.output(/^leader of E1: alpha \(key \S+, revision \d+\)$/m);
    candidate.stop();
    const rc = await candidate.done;
    expect(rc.code).toBe(0);
    expect(rc.out).toMatch(/\nresigned E1\n$/);
    await listener.output(/leader of E1: alpha.*\nE1 has no leader\n/);
    listener.stop();
    const rl = await listener.done;
    expect(rl.code).toBe(0);
    expect(rl.out.trim().split("\n")).toHaveLength(3);
  });

  it("--json prints events as lines", async () => {
    const candidate = h.background(["elect", "E2", "beta", "--json"]);
    const elected = JSON.parse((await candidate.output(/^.*"elected".*$/m))[0]);
    expect(elected).toMatchObject({ event: "elected", name: "E2", proposal: "beta" });
    const listen = h.background(["elect", "E2", "-l", "--json"]);
    const seen = JSON.parse((await listen.output(/^.*"leader".*$/m))[0]);
    expect(seen).toMatchObject({
      event: "leader",
      name: "E2",
      leader: { value: "beta", revision: elected.revision },
    });
    listen.stop();
    candidate.stop();
    expect((await listen.done).code).toBe(0);
    expect((await candidate.done).code).toBe(0);
  });

  it("needs a proposal or --listen, not both (exit 2)", async () => {
    expect((await h.run(["elect", "E3"])).err).toContain(
      "give a proposal to campaign with, or --listen",
    );
    const both = await h.run(["elect", "E3", "p", "--listen"]);
    expect(both.code).toBe(2);
    expect(both.err).toContain("not both");
  });
});
