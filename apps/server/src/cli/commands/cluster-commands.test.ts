// member, transfer-leader, status and snapshot save against a one-node engine in memory (and a
// fake client for nodes that do not answer).
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DEngineClient, type NodeStatus, UnavailableError } from "@d-engine/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliHarness, runCli } from "../../../test/support/cli-harness.js";

let h: CliHarness;
let dir: string;
beforeAll(async () => {
  h = await CliHarness.start();
  dir = await mkdtemp(join(tmpdir(), "dengine-cli-test-"));
});
afterAll(async () => {
  await h?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("member", () => {
  it("lists the members with the leader marked", async () => {
    const r = await h.run(["member", "list"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        "ID  ROLE   LEADER  CLIENT-ADDRESS  PEER-ADDRESS    READ-ONLY",
        " 1  voter  *       127.0.0.1:7001  127.0.0.1:7001  no",
        "",
      ].join("\n"),
    );
    const j = JSON.parse((await h.run(["member", "list", "--json", "--linearizable"])).out);
    expect(j).toEqual({
      leaderId: 1,
      members: [
        {
          id: 1,
          role: "voter",
          clientAddress: "127.0.0.1:7001",
          peerAddress: "127.0.0.1:7001",
          readOnly: false,
        },
      ],
    });
  });

  it("adds a learner, removes it; refuses to promote a node that is not a member", async () => {
    const add = await h.run([
      "member",
      "add",
      "2",
      "127.0.0.1:7002",
      "--peer-address",
      "127.0.0.1:7102",
      "--read-only",
    ]);
    expect(add.code).toBe(0);
    expect(add.out.split("\n")[0]).toBe("added node 2 as a learner");
    expect(add.out).toMatch(/ 2 {2}learner +127\.0\.0\.1:7002 {2}127\.0\.0\.1:7102 {2}yes/);
    // (Not promoted: node 2 does not run, and two voters with one missing have no quorum.)
    const promote = await h.run(["member", "promote", "9"]);
    expect(promote.code).toBe(1);
    expect(promote.err).toMatch(/^d-engine member promote: .+ \(membership\)\n$/);
    const remove = await h.run(["member", "remove", "2", "--json"]);
    expect(remove.code).toBe(0);
    expect(JSON.parse(remove.out).members.map((m: { id: number }) => m.id)).toEqual([1]);
  });

  it("watch prints the members, then again after each change, until Ctrl-C", async () => {
    const w = h.background(["member", "watch", "--json"]);
    await w.output(/^\{.*\}\n/);
    await h.client.cluster.addLearner({
      id: 5,
      clientAddress: "127.0.0.1:7005",
      peerAddress: "127.0.0.1:7005",
    });
    await w.output(/\n\{.*"id":5.*\}\n/);
    w.stop();
    const r = await w.done;
    expect(r.code).toBe(0);
    const lists = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lists[0].members.map((m: { id: number }) => m.id)).toEqual([1]);
    expect(lists.at(-1).members.map((m: { id: number; role: string }) => [m.id, m.role])).toEqual([
      [1, "voter"],
      [5, "learner"],
    ]);
    await h.client.cluster.removeMember(5);
  });

  it("a group without a subcommand, or a bad id, is bad usage", async () => {
    const bare = await h.run(["member"]);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain("Usage: d-engine member");
    const badId = await h.run(["member", "remove", "two"]);
    expect(badId.code).toBe(2);
    expect(badId.err).toContain(
      "value 'two' is invalid for argument 'id'. Expected a positive integer.",
    );
  });
});

describe("transfer-leader", () => {
  it("fails with the typed error's message and code when there is no other voter", async () => {
    const r = await h.run(["transfer-leader"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^d-engine transfer-leader: .+ \([a-z-]+\)\n$/);
  });
});

describe("status", () => {
  it("prints one row per node with role, leader, term and indexes", async () => {
    await h.client.put("s/k", "v");
    const r = await h.run(["status", "--endpoints", "127.0.0.1:7001"]);
    expect(r.code).toBe(0);
    const [header, row, end] = r.out.split("\n");
    expect(header).toBe("ID  ADDRESS         ROLE    LEADER  TERM  COMMIT  APPLIED  REVISION");
    expect(row).toMatch(/^ 1 {2}127\.0\.0\.1:7001 {2}leader +1 +\d+ +\d+ +\d+ +\d+$/);
    expect(end).toBe("");
    const j = JSON.parse((await h.run(["status", "--json", "--endpoints", "127.0.0.1:7001"])).out);
    expect(j.nodes).toHaveLength(1);
    expect(j.nodes[0]).toMatchObject({ id: 1, role: "leader", leaderId: 1, clusterId: "cli" });
    expect(j.nodes[0].appliedIndex).toBeGreaterThan(0);
    expect(j.nodes[0].revision).toBeGreaterThan(0);
  });

  it("shows nodes that do not answer, and exits 1", async () => {
    const status = (id: number): NodeStatus => ({
      id,
      clusterId: "c",
      role: id === 1 ? "leader" : "follower",
      term: 4,
      leaderId: 1,
      commitIndex: 10,
      appliedIndex: 9,
      lastIndex: 10,
      snapshotIndex: 0,
      revision: 7,
      members: [],
      matchIndex: {},
    });
    const members = [1, 2].map((id) => ({
      id,
      role: "voter" as const,
      clientAddress: `10.0.0.${id}:9081`,
      peerAddress: `10.0.0.${id}:9081`,
      readOnly: false,
    }));
    const fake = {
      cluster: {
        members: async () => ({ members, leaderId: 1 }),
        status: async (o?: { endpoint?: string }) => {
          if (o?.endpoint === "10.0.0.1:9081") return status(1);
          throw new UnavailableError(`no answer from ${o?.endpoint}`);
        },
      },
      close: async () => undefined,
    } as unknown as DEngineClient;
    // An endpoint that is also a member (as a URL) is asked once; another one is added.
    const r = await runCli(
      ["status", "--endpoints", "http://10.0.0.1:9081,10.0.0.9:9081"],
      () => fake,
    );
    expect(r.code).toBe(1);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe(
      "ID  ADDRESS        ROLE         LEADER  TERM  COMMIT  APPLIED  REVISION  ERROR",
    );
    expect(lines[1]).toBe(
      " 1  10.0.0.1:9081  leader            1     4      10        9         7",
    );
    expect(lines[2]).toBe(
      " 2  10.0.0.2:9081  unreachable                                           no answer from 10.0.0.2:9081 (unavailable)",
    );
    expect(lines[3]).toMatch(
      /^ \? {2}10\.0\.0\.9:9081 {2}unreachable +no answer from 10\.0\.0\.9:9081/,
    );
    expect(r.err).toBe("d-engine status: 2 nodes of 3 did not answer\n");
  });
});

describe("snapshot save", () => {
  it("writes the snapshot into the file and leaves no temporary file", async () => {
    const file = join(dir, "backup.snap");
    await writeFile(file, "an older backup");
    const r = await h.run(["snapshot", "save", file, "--fresh"]);
    expect(r.code).toBe(0);
    const bytes = (await stat(file)).size;
    expect(r.out).toBe(`saved snapshot to ${file} (${bytes} bytes)\n`);
    expect(bytes).toBeGreaterThan(0);
    expect((await readFile(file)).toString()).not.toBe("an older backup");
    expect(await readdir(dir)).toEqual(["backup.snap"]);
    const j = JSON.parse((await h.run(["snapshot", "save", file, "--json"])).out);
    expect(j).toEqual({ file, bytes: expect.any(Number) });
  });

  it("keeps the old file when the download fails, and removes the temporary one", async () => {
    const file = join(dir, "kept.snap");
    await writeFile(file, "the previous backup");
    const failing = {
      maintenance: {
        async *downloadSnapshot() {
          yield new Uint8Array([1, 2, 3]);
          throw new UnavailableError("the stream broke");
        },
      },
      close: async () => undefined,
    } as unknown as DEngineClient;
    const r = await runCli(["snapshot", "save", file], () => failing);
    expect(r.code).toBe(1);
    expect(r.err).toBe("d-engine snapshot save: the stream broke (unavailable)\n");
    expect(await readFile(file, "utf8")).toBe("the previous backup");
    expect((await readdir(dir)).sort()).toEqual(["backup.snap", "kept.snap"]);
  });
});
