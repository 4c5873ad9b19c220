import { prefixEnd, toBytes } from "@d-engine/client";
import { describe, expect, it } from "vitest";
import { UsageError } from "./run.js";
import { parseTxn, unquote } from "./txn-format.js";

const b = (s: string) => toBytes(s);

describe("the txn text format", () => {
  it("reads compares, success and failure sections (etcdctl's format)", () => {
    const txn = parseTxn(
      [
        "# a comment does not end a section",
        'mod("config/a") > "0"',
        'value("config/b") = "old value"',
        "ver(k, z) != 2",
        "",
        'put config/b "new value"',
        "put --lease=7 --prev-kv k v",
        "get --prefix config/",
        "del --from-key --prev-kv x",
        "",
        "get --limit=3 a c",
        "delete k",
        "",
      ].join("\n"),
    );
    expect(txn.compare).toEqual([
      { key: b("config/a"), target: "mod", result: ">", number: 0 },
      { key: b("config/b"), target: "value", result: "=", value: b("old value") },
      { key: b("k"), rangeEnd: b("z"), target: "version", result: "!=", number: 2 },
    ]);
    expect(txn.success).toEqual([
      { type: "put", key: b("config/b"), value: b("new value") },
      { type: "put", key: b("k"), value: b("v"), lease: 7, prevKv: true },
      { type: "get", key: b("config/"), rangeEnd: prefixEnd(b("config/")) },
      { type: "delete", key: b("x"), rangeEnd: new Uint8Array([0]), prevKv: true },
    ]);
    expect(txn.failure).toEqual([
      { type: "get", key: b("a"), rangeEnd: b("c"), limit: 3 },
      { type: "delete", key: b("k") },
    ]);
  });

  it("an empty section is an empty line; CRLF line ends are fine", () => {
    const txn = parseTxn("\r\nput k v\r\n");
    expect(txn.compare).toEqual([]);
    expect(txn.success).toEqual([{ type: "put", key: b("k"), value: b("v") }]);
    expect(txn.failure).toEqual([]);
  });

  it("quoted strings hold spaces and escapes, including any byte", () => {
    expect(unquote('"a b\\"c\\\\\\n\\x00\\xff"')).toEqual(
      new Uint8Array([0x61, 0x20, 0x62, 0x22, 0x63, 0x5c, 0x0a, 0x00, 0xff]),
    );
    expect(unquote('"ü😀"')).toEqual(b("ü😀"));
  });

  it.each([
    ['mod("k") >> 1', /txn line 1: cannot read the compare/],
    ['size("k") = 1', /txn line 1: unknown compare target "size"/],
    ['mod("k") = "x"', /txn line 1: the operand of mod must be a non-negative integer/],
    ["\nfrob k", /txn line 2: unknown operation "frob"/],
    ["\nput k", /txn line 2: usage: put/],
    ["\nget --prefix a b", /txn line 2: give one of --prefix, --from-key or a range end/],
    ["\nput --limit=2 k v", /txn line 2: put takes no --limit/],
    ['\nput "k v', /txn line 2: unterminated string/],
    ["\nput k v\n\nget k\n\nget z", /txn line 6: a fourth section/],
    ['\nput k "\\q"', /txn line 2: bad escape \\q/],
  ])("refuses %j naming the line", (text, message) => {
    expect(() => parseTxn(text)).toThrow(UsageError);
    expect(() => parseTxn(text)).toThrow(message);
  });
});
