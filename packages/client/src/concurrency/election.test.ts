// The election recipe against the in-memory fake: campaign order, proclaim only while leading,
// resign handing over, leader(), and observe() following every change without gaps.
import { describe, expect, it } from "vitest";
import { text } from "../bytes.js";
import { Election, type ElectionLeader, observeElection } from "./election.js";
import { NotElectionLeaderError } from "./errors.js";
import { Session } from "./session.js";
import { FakeCoordination } from "./testing/fake-coordination.js";
import { track, until } from "./testing/until.js";

/** Collects what observe yields, as "value@createRevision" or "none". */
function collect(it: AsyncGenerator<ElectionLeader | undefined>) {
  const seen: string[] = [];
  const done = (async () => {
    for await (const l of it) seen.push(l ? `${text(l.value)}@${l.revision}` : "none");
  })();
  return { seen, done };
}

describe("Election", () => {
  it("campaign leads in order; observe sees each leader and value; resign hands over", async () => {
    const fake = new FakeCoordination();
    const a = await Session.create(fake);
    const b = await Session.create(fake);
    const ea = new Election(a, "svc");
    const eb = new Election(b, "svc");
    const stop = new AbortController();
    const obs = collect(observeElection(fake, "svc", { signal: stop.signal }));
    await until("observe to report no leader", () => obs.seen.length === 1);
    expect(obs.seen).toEqual(["none"]);
    expect(await ea.leader()).toBeUndefined();

    const la = await ea.campaign("a-1");
    await until("observe to see a", () => obs.seen.length === 2);
    const wb = track(eb.campaign("b-1"));
    await until("b to wait on a", () => fake.openWatches.size >= 2);
    expect(wb.settled).toBe(false);

    const proclaimed = await ea.proclaim("a-2");
    expect(proclaimed).toBeGreaterThan(la.revision);
    const leader = await eb.leader();
    expect(leader && text(leader.value)).toBe("a-2");
    expect(leader?.revision).toBe(la.revision);
    await expect(eb.proclaim("b-x")).rejects.toBeInstanceOf(NotElectionLeaderError);

    expect(await ea.resign()).toBe(true);
    const lb = await wb.promise;
    expect(lb.revision).toBeGreaterThan(la.revision);
    await until("observe to see b", () => obs.seen.length === 4);
    expect(obs.seen).toEqual([
      "none",
      `a-1@${la.revision}`,
      `a-2@${la.revision}`,
      `b-1@${lb.revision}`,
    ]);
    stop.abort();
    await obs.done;
  });

  it("observe reads again after the server cancels its watch, repeating nothing", async () => {
    const fake = new FakeCoordination();
    const a = await Session.create(fake);
    const ea = new Election(a, "svc");
    const la = await ea.campaign("a-1");
    const stop = new AbortController();
    const obs = collect(observeElection(fake, "svc", { signal: stop.signal }));
    await until("observe to see a", () => obs.seen.length === 1);
    const started = fake.watchesStarted;
    fake.cancelWatches("compacted");
    await until("observe to watch again", () => fake.watchesStarted === started + 1);
    await ea.proclaim("a-2");
    await until("observe to see a-2", () => obs.seen.length === 2);
    expect(obs.seen).toEqual([`a-1@${la.revision}`, `a-2@${la.revision}`]);
    stop.abort();
    await obs.done;
  });

  it("a leader whose lease ended cannot proclaim; the next candidate leads", async () => {
    const fake = new FakeCoordination();
    const a = await Session.create(fake);
    const b = await Session.create(fake);
    const ea = new Election(a, "svc");
    await ea.campaign("a");
    const wb = track(new Election(b, "svc").campaign("b"));
    await until("b to wait", () => fake.openWatches.size >= 1);
    fake.expire(a.leaseId);
    await wb.promise;
    await expect(ea.proclaim("a-again")).rejects.toBeInstanceOf(NotElectionLeaderError);
    const l = await ea.leader();
    expect(l && text(l.value)).toBe("b");
    expect(ea.leadership).toBeUndefined();
  });

  it("a candidate that gives up withdraws; observe ends when its consumer stops", async () => {
    const fake = new FakeCoordination();
    const a = await Session.create(fake);
    const b = await Session.create(fake);
    await new Election(a, "svc").campaign("a");
    const give = new AbortController();
    const wb = track(new Election(b, "svc").campaign("b", { signal: give.signal }));
    await until("b to wait", () => fake.openWatches.size >= 1);
    give.abort(new Error("no longer"));
    await expect(wb.promise).rejects.toThrow("no longer");
    expect((await fake.range({ prefix: "svc/" })).kvs.map((kv) => kv.lease)).toEqual([a.leaseId]);

    const it = new Election(b, "svc").observe();
    const first = await it.next();
    expect(first.value && text((first.value as ElectionLeader).value)).toBe("a");
    await it.return(undefined);
    await until("observe's watch to close", () =>
      [...fake.openWatches.values()].every((n) => n === 0),
    );
  });
});
