import type { KeyValue } from "@d-engine/client";
import { describe, expect, it } from "vitest";
import { displayBytes, kvJson, kvTable } from "./render.js";

const enc = (s: string) => new TextEncoder().encode(s);
const kv = (key: Uint8Array, value: Uint8Array): KeyValue => ({
  key,
  value,
  createRevision: 2,
  modRevision: 5,
  version: 3,
  lease: 0,
});

describe("bytes for people", () => {
  it("shows UTF-8 as text and escapes control characters and backslashes", () => {
    expect(displayBytes(enc("héllo wörld"))).toBe("héllo wörld");
    expect(displayBytes(enc("a\nb\tc\u0001\\"))).toBe("a\\nb\\tc\\x01\\\\");
  });

  it("escapes bytes that are not UTF-8 as \\xNN", () => {
    expect(displayBytes(new Uint8Array([0x61, 0xff, 0xfe, 0x5c, 0x00]))).toBe(
      "a\\xff\\xfe\\\\\\x00",
    );
  });
});

describe("key-values for programs", () => {
  it("gives text fields for UTF-8 and <field>Base64 for other bytes", () => {
    expect(kvJson(kv(enc("k"), enc("v")))).toEqual({
      key: "k",
      value: "v",
      createRevision: 2,
      modRevision: 5,
      version: 3,
      lease: 0,
    });
    const binary = kvJson(kv(enc("k"), new Uint8Array([0xff, 0x00])));
    expect(binary.valueBase64).toBe("/wA=");
    expect(binary).not.toHaveProperty("value");
    expect(kvJson(kv(enc("k"), enc("v")), { keysOnly: true })).not.toHaveProperty("value");
  });

  it("tables key-values, without the VALUE column for keys only", () => {
    const rows = [kv(enc("a"), enc("1"))];
    expect(kvTable(rows)).toBe(
      "KEY  VALUE  CREATE-REV  MOD-REV  VERSION  LEASE\na    1               2        5        3\n",
    );
    expect(kvTable(rows, { keysOnly: true }).split("\n")[0]).toBe(
      "KEY  CREATE-REV  MOD-REV  VERSION  LEASE",
    );
  });
});
