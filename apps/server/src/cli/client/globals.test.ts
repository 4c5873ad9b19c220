// The global options (where, how long, JSON) and the exit codes of bad usage, without a cluster:
// the client is a fake that records how it was made.
import type { DEngineClient } from "@d-engine/client";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../test/support/cli-harness.js";
import type { ConnectOptions } from "./env.js";

async function connectOptions(args: string[], env: Record<string, string> = {}) {
  const made: ConnectOptions[] = [];
  const fake = {
    compact: async (revision: number) => ({ revision }),
    close: async () => undefined,
  } as unknown as DEngineClient;
  const r = await runCli(
    args,
    (o) => {
      made.push(o);
      return fake;
    },
    { env },
  );
  return { ...r, made };
}

describe("global options", () => {
  it("default to 127.0.0.1:9081 and 5 s", async () => {
    const r = await connectOptions(["compact", "3"]);
    expect(r.code).toBe(0);
    expect(r.made).toEqual([{ endpoints: ["127.0.0.1:9081"], timeoutMs: 5000 }]);
  });

  it("take the endpoints from DENGINE_ENDPOINTS, and flags over it", async () => {
    const env = { DENGINE_ENDPOINTS: "a:1, b:2" };
    expect((await connectOptions(["compact", "3"], env)).made[0]?.endpoints).toEqual([
      "a:1",
      "b:2",
    ]);
    const flagged = await connectOptions(["compact", "3", "--endpoints", "c:3"], env);
    expect(flagged.made[0]?.endpoints).toEqual(["c:3"]);
  });

  it("are accepted before the command and after it; after wins", async () => {
    const before = await connectOptions([
      "--endpoints",
      "x:1",
      "--timeout",
      "2s",
      "--json",
      "compact",
      "3",
    ]);
    expect(before.made).toEqual([{ endpoints: ["x:1"], timeoutMs: 2000 }]);
    expect(JSON.parse(before.out)).toEqual({ revision: 3 });
    const both = await connectOptions(["--endpoints", "x:1", "compact", "3", "--endpoints", "y:2"]);
    expect(both.made[0]?.endpoints).toEqual(["y:2"]);
  });

  it.each([
    [["compact", "3", "--endpoints", " , "], /--endpoints lists no address/],
    [
      ["compact", "3", "--timeout", "soon"],
      /option '--timeout <duration>' argument 'soon' is invalid/,
    ],
    [
      ["--timeout", "soon", "compact", "3"],
      /option '--timeout <duration>' argument 'soon' is invalid/,
    ],
    [["compact", "0"], /value '0' is invalid for argument 'revision'/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ])("%j is bad usage (exit 2), before any connection", async (args, message) => {
    const r = await connectOptions(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.made).toEqual([]);
  });

  it("help lists the client commands and exits 0", async () => {
    const r = await connectOptions(["--help"]);
    expect(r.code).toBe(0);
    for (const c of [
      "put",
      "get",
      "del",
      "txn",
      "member",
      "transfer-leader",
      "status",
      "snapshot",
      "compact",
    ]) {
      expect(r.out).toMatch(new RegExp(`\\n  ${c}\\b`));
    }
    const put = await connectOptions(["put", "--help"]);
    expect(put.code).toBe(0);
    expect(put.out).toContain("Usage: d-engine put [options] <key> [value]");
    expect(put.out).toContain("--endpoints <list>");
  });
});
