// put, get, del, txn and compact against a one-node engine in memory: their tables, their JSON,
// their exit codes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliHarness } from "../../../test/support/cli-harness.js";

let h: CliHarness;
beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(async () => {
  await h?.stop();
});

describe("put", () => {
  it("writes a key and prints the revision; --json gives it as a number", async () => {
    const r = await h.run(["put", "put/a", "one"]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toMatch(/^OK revision \d+\n$/);
    const j = await h.run(["put", "put/a", "two", "--json", "--prev-kv"]);
    expect(j.code).toBe(0);
    const body = JSON.parse(j.out);
    expect(body.revision).toBe(Number(/revision (\d+)/.exec(r.out)?.[1]) + 1);
    expect(body.prevKv).toMatchObject({ key: "put/a", value: "one", version: 1 });
    expect(h.closes, "every command closes its client").toBeGreaterThanOrEqual(2);
  });

  it("reads the value from stdin when none is given, bytes and all", async () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x0a]);
    expect((await h.run(["put", "put/bin"], { stdin: bytes })).code).toBe(0);
    const kv = await h.client.get("put/bin");
    expect(kv?.value).toEqual(bytes);
    const j = JSON.parse((await h.run(["get", "put/bin", "--json"])).out);
    expect(j.kvs[0].valueBase64).toBe(Buffer.from(bytes).toString("base64"));
  });

  it("refuses a missing value on a terminal with exit code 2", async () => {
    const r = await h.run(["put", "put/x"], { stdinIsTTY: true });
    expect(r.code).toBe(2);
    expect(r.err).toContain("no value: give it as an argument or on standard input");
  });

  it("--ttl grants a lease for the key", async () => {
    const j = JSON.parse((await h.run(["put", "put/ttl", "v", "--ttl", "60", "--json"])).out);
    expect(j.lease).toBeGreaterThan(0);
    expect((await h.client.get("put/ttl"))?.lease).toBe(j.lease);
  });
});

describe("get", () => {
  beforeAll(async () => {
    for (const k of ["g/a", "g/b", "g/c", "g/d", "h/a"]) await h.client.put(k, `v-${k}`);
  });

  it("prints a table of one key", async () => {
    const r = await h.run(["get", "g/a"]);
    expect(r.code).toBe(0);
    const [header, row, footer] = r.out.split("\n");
    expect(header).toBe("KEY  VALUE  CREATE-REV  MOD-REV  VERSION  LEASE");
    expect(row).toMatch(/^g\/a {2}v-g\/a +\d+ +\d+ +1$/);
    expect(footer).toMatch(/^1 key at revision \d+$/);
  });

  it("reads a prefix, a range, from a key, with a limit", async () => {
    const keys = (out: string) => JSON.parse(out).kvs.map((kv: { key: string }) => kv.key);
    expect(keys((await h.run(["get", "g/", "--prefix", "--json"])).out)).toEqual([
      "g/a",
      "g/b",
      "g/c",
      "g/d",
    ]);
    expect(keys((await h.run(["get", "g/b", "g/d", "--json"])).out)).toEqual(["g/b", "g/c"]);
    expect(keys((await h.run(["get", "g/d", "--from-key", "--json"])).out)).toEqual(
      expect.arrayContaining(["g/d", "h/a"]),
    );
    const limited = await h.run(["get", "g/", "--prefix", "--limit", "2"]);
    expect(limited.out).toMatch(/2 keys at revision \d+ \(4 match; more beyond --limit\)\n$/);
    const j = JSON.parse((await h.run(["get", "g/", "--prefix", "--limit", "2", "--json"])).out);
    expect(j).toMatchObject({ count: 4, more: true });
    expect(j.kvs).toHaveLength(2);
  });

  it("sorts, counts, prints keys only or values only", async () => {
    const desc = JSON.parse(
      (await h.run(["get", "g/", "--prefix", "--order", "descend", "--json"])).out,
    );
    expect(desc.kvs.map((kv: { key: string }) => kv.key)).toEqual(["g/d", "g/c", "g/b", "g/a"]);
    expect((await h.run(["get", "g/", "--prefix", "--count-only"])).out).toMatch(
      /^4 keys at revision \d+\n$/,
    );
    const keysOnly = await h.run(["get", "g/", "--prefix", "--keys-only"]);
    expect(keysOnly.out.split("\n")[0]).toBe("KEY  CREATE-REV  MOD-REV  VERSION  LEASE");
    expect(keysOnly.out).not.toContain("v-g/a");
    expect((await h.run(["get", "g/", "--prefix", "--print-value-only"])).out).toBe(
      "v-g/a\nv-g/b\nv-g/c\nv-g/d\n",
    );
  });

  it("reads at a past revision and with a chosen consistency", async () => {
    const first = await h.client.put("g/rev", "old");
    await h.client.put("g/rev", "new");
    const past = JSON.parse(
      (await h.run(["get", "g/rev", "--rev", String(first.revision), "--json"])).out,
    );
    expect(past.kvs[0].value).toBe("old");
    const now = await h.run(["get", "g/rev", "--consistency", "eventual", "--print-value-only"]);
    expect(now.out).toBe("new\n");
  });

  it("an absent key is no error: zero keys", async () => {
    const r = await h.run(["get", "nope"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^0 keys at revision \d+\n$/);
  });

  it.each([
    [["get", "a", "--prefix", "--from-key"], /give only one of --prefix and --from-key/],
    [["get", "a", "z", "--prefix"], /give only one of --prefix and a range end/],
    [["get", "a", "--consistency", "strong"], /argument 'strong' is invalid/],
    [["get", "a", "--limit", "-1"], /option '--limit <n>' argument '-1' is invalid/],
    [["get", "a", "--sort-by", "mod"], /--sort-by needs --order/],
    [["get"], /missing required argument 'key'/],
    [["get", "a", "b", "c"], /too many arguments/],
    [["get", "a", "--bogus"], /unknown option '--bogus'/],
  ])("%j is bad usage: exit 2 and a message", async (args, message) => {
    const r = await h.run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe("");
  });
});

describe("del", () => {
  it("deletes one key, a prefix, and shows what it deleted", async () => {
    for (const k of ["d/a", "d/b", "d/c"]) await h.client.put(k, "x");
    const one = await h.run(["del", "d/a"]);
    expect(one.out).toMatch(/^deleted 1 key at revision \d+\n$/);
    const rest = JSON.parse((await h.run(["del", "d/", "--prefix", "--prev-kv", "--json"])).out);
    expect(rest.deleted).toBe(2);
    expect(rest.prevKvs.map((kv: { key: string }) => kv.key)).toEqual(["d/b", "d/c"]);
    expect((await h.client.prefix("d/")).kvs).toEqual([]);
    expect((await h.run(["delete", "d/none"])).out).toMatch(/^deleted 0 keys/);
  });
});

describe("txn", () => {
  it("runs the success branch when the compares hold, the failure branch otherwise", async () => {
    await h.client.put("t/flag", "old");
    const text = [
      'value("t/flag") = "old"',
      "",
      'put t/flag "new"',
      "get t/flag",
      "",
      "get t/flag",
      "",
    ].join("\n");
    const ok = await h.run(["txn"], { stdin: text });
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^SUCCESS revision \d+\n\nput: OK\n\nget: 1 key\nKEY/);
    expect(ok.out).toContain("t/flag  new");
    const again = JSON.parse((await h.run(["txn", "--json"], { stdin: text })).out);
    expect(again.succeeded).toBe(false);
    expect(again.results).toEqual([
      expect.objectContaining({ type: "get", kvs: [expect.objectContaining({ value: "new" })] }),
    ]);
  });

  it("names the line of a bad transaction (exit 2); a missing file is an operation failure", async () => {
    const bad = await h.run(["txn"], { stdin: 'mod("k") ~ 1\n' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("txn line 1: cannot read the compare");
    const missing = await h.run(["txn", "--file", "/nonexistent/txn.txt"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/ENOENT/);
  });
});

describe("compact", () => {
  it("compacts; reading below the compacted revision then fails with exit 1 and the code", async () => {
    const w = await h.client.put("c/k", "v");
    await h.client.put("c/k", "v2");
    const r = await h.run(["compact", String(w.revision + 1)]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`compacted: history before revision ${w.revision + 1} is gone\n`);
    const old = await h.run(["get", "c/k", "--rev", String(w.revision)]);
    expect(old.code).toBe(1);
    expect(old.err).toMatch(/^d-engine get: .+ \(compacted\)\n$/);
    const oldJson = await h.run(["get", "c/k", "--rev", String(w.revision), "--json"]);
    expect(JSON.parse(oldJson.err)).toMatchObject({ error: { code: "compacted" } });
  });
});
