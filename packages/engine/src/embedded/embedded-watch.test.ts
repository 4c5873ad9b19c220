// The embedded client's watch and membership watch: served in-process by the node's own state
// machine, on a follower too, across a leadership transfer, and ended when the node stops.
import { type MemberList, text, type WatchBatch, WatchCanceledError } from "@d-engine/client";
import { afterEach, expect, it } from "vitest";
import { startEmbeddedTrio } from "../testing/embedded-trio.js";
import { waitFor } from "../testing/wait.js";
import type { EmbeddedEngine } from "./embedded-engine.js";

let engines: EmbeddedEngine[] = [];
afterEach(async () => {
  await Promise.allSettled(engines.map((e) => e.stop({ transferLeadership: false })));
  engines = [];
});

async function startThree(): Promise<EmbeddedEngine[]> {
  engines = await startEmbeddedTrio({
    clusterId: "embedded-watch",
    seedBase: 4400,
    extra: { learners: { autoPromote: false } },
  });
  return engines;
}

it("a follower's watch sees every change in order across a leadership transfer, then ends when its node stops", async () => {
  const all = await startThree();
  const follower = all.find((e) => !e.node.isLeader) as EmbeddedEngine;
  const writer = all.find((e) => e !== follower) as EmbeddedEngine;
  await writer.client.put("cfg/a", "0");
  // From revision 1: the first change comes from history, the rest live.
  const w = follower.client.watch({ prefix: "cfg/", startRevision: 1, prevKv: true });
  const it = w[Symbol.asyncIterator]();
  // The node's metrics count its open watches.
  expect(await follower.node.metrics.text()).toMatch(/^dengine_watchers(\{[^}]*\})? 1$/m);
  const seen: WatchBatch[] = [];
  const pull = async (n: number) => {
    while (seen.length < n) {
      const r = await it.next();
      if (r.done) throw new Error("the watch ended");
      seen.push(r.value);
    }
  };
  for (let i = 1; i <= 5; i++) await writer.client.put("cfg/a", `${i}`);
  await writer.client.put("other", "x");
  await pull(6);
  const before = (all.find((e) => e.node.isLeader) as EmbeddedEngine).node.id;
  const leader = all.find((e) => e.node.id === before) as EmbeddedEngine;
  const { leaderId } = await leader.node.api.cluster.transferLeader();
  expect(leaderId).not.toBe(before);
  for (let i = 6; i <= 10; i++) await writer.client.put("cfg/a", `${i}`);
  await writer.client.delete("cfg/a");
  await pull(12);
  expect(seen.map((b) => b.revision)).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13]);
  expect(
    seen.map((b) => `${b.events[0]?.type}:${text(b.events[0]?.kv.value ?? new Uint8Array())}`),
  ).toEqual([
    "put:0",
    "put:1",
    "put:2",
    "put:3",
    "put:4",
    "put:5",
    "put:6",
    "put:7",
    "put:8",
    "put:9",
    "put:10",
    "delete:",
  ]);
  expect(text(seen[11]?.events[0]?.prevKv?.value ?? new Uint8Array())).toBe("10");
  // On demand, the watch says it is caught up to the follower's revision.
  w.requestProgress();
  const p = await it.next();
  expect(p.value).toEqual({ revision: 13, events: [], progress: true });
  const end = it.next();
  await follower.node.stop({ transferLeadership: false });
  await expect(end).rejects.toBeInstanceOf(WatchCanceledError);
});

it("the membership watch gives the members at once, then each committed change", async () => {
  const all = await startThree();
  const follower = all.find((e) => !e.node.isLeader) as EmbeddedEngine;
  const leader = all.find((e) => e.node.isLeader) as EmbeddedEngine;
  const ctl = new AbortController();
  const lists: MemberList[] = [];
  const done = (async () => {
    for await (const l of follower.client.cluster.watchMembers({ signal: ctl.signal })) {
      lists.push(l);
    }
  })();
  await waitFor(() => lists.length === 1, "the current members");
  expect(lists[0]?.members.map((m) => m.id)).toEqual([1, 2, 3]);
  const gone = all.find((e) => e !== follower && e !== leader) as EmbeddedEngine;
  await leader.client.cluster.removeMember(gone.node.id);
  await waitFor(() => lists.length === 2, "the change, on the follower");
  expect(lists[1]?.members.map((m) => m.id)).toEqual([1, 2, 3].filter((id) => id !== gone.node.id));
  ctl.abort();
  await done;
  expect(lists).toHaveLength(2);
  // A node that stops ends its membership watches with a reason.
  const again = follower.client.cluster.watchMembers()[Symbol.asyncIterator]();
  expect((await again.next()).value?.members).toHaveLength(2);
  const end = again.next();
  await follower.node.stop({ transferLeadership: false });
  await expect(end).rejects.toBeInstanceOf(WatchCanceledError);
});
