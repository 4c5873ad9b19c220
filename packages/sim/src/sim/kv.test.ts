import { describe, expect, it } from "vitest";
import { decodeCommand, encodeCommand, KvStore } from "./kv.js";

describe("kv state machine", () => {
  it("applies a retried write once and answers the retry with the first result", () => {
    const kv = new KvStore();
    const cas = {
      client: 1,
      seq: 1,
      key: "k",
      input: { op: "cas", expect: null, value: "a" },
    } as const;
    expect(kv.apply(1, cas)).toEqual({ output: { kind: "swapped", ok: true }, effect: true });
    // The same (client, sequence) reaching the log again changes nothing.
    expect(kv.apply(2, cas)).toEqual({ output: { kind: "swapped", ok: true }, effect: false });
    expect(kv.read("k")).toBe("a");
    kv.apply(3, { client: 1, seq: 2, key: "k", input: { op: "delete" } });
    // An older sequence is stale: no effect, and nobody is waiting for its answer.
    expect(kv.apply(4, cas)).toEqual({ output: { kind: "unknown" }, effect: false });
    expect(kv.read("k")).toBeNull();
    expect(kv.applied).toBe(4);
  });

  it("round-trips commands and snapshots, sessions included", () => {
    const cmd = { client: 3, seq: 9, key: "k1", input: { op: "put", value: "3.9" } } as const;
    expect(decodeCommand(encodeCommand(cmd))).toEqual(cmd);
    const kv = new KvStore();
    kv.apply(1, cmd);
    const copy = KvStore.decode(kv.encode(), 1);
    expect(copy.digest()).toBe(kv.digest());
    expect(copy.apply(2, cmd).effect).toBe(false);
  });
});
