import { describe, expect, it } from "vitest";
import { formatHostPort, isWildcardHost, parseHostPort } from "./address.js";
import { MemberSpecError, parseMemberSpec } from "./members.js";

describe("parseHostPort", () => {
  it("accepts hosts, IPv4 and bracketed IPv6 with a port from 1 to 65535", () => {
    expect(parseHostPort("127.0.0.1:9081")).toEqual({ host: "127.0.0.1", port: 9081 });
    expect(parseHostPort("node-2.internal:1")).toEqual({ host: "node-2.internal", port: 1 });
    expect(parseHostPort("[::1]:65535")).toEqual({ host: "::1", port: 65535 });
  });

  it.each([
    "127.0.0.1",
    ":9081",
    "host:0",
    "host:65536",
    "host:90a",
    "::1:9081",
    "[::1]9081",
    "[zz]:1",
    "a b:1",
    "",
  ])("rejects %j", (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  });

  it("formats IPv6 with brackets and knows wildcards", () => {
    expect(formatHostPort("::1", 5)).toBe("[::1]:5");
    expect(formatHostPort("h", 5)).toBe("h:5");
    expect(isWildcardHost("0.0.0.0")).toBe(true);
    expect(isWildcardHost("::")).toBe(true);
    expect(isWildcardHost("127.0.0.1")).toBe(false);
  });
});

describe("parseMemberSpec", () => {
  it("splits id=host:port entries, trimming spaces and empty entries", () => {
    expect(parseMemberSpec(" 1=127.0.0.1:9081, 2=127.0.0.1:9082,,3=h:3 ")).toEqual([
      { id: 1, address: "127.0.0.1:9081" },
      { id: 2, address: "127.0.0.1:9082" },
      { id: 3, address: "h:3" },
    ]);
  });

  it("keeps a non-numeric id as text for the schema to reject", () => {
    expect(parseMemberSpec("a=h:1")).toEqual([{ id: "a", address: "h:1" }]);
  });

  it("refuses entries without '=' and empty specs", () => {
    expect(() => parseMemberSpec("1=h:1,h:2")).toThrow(
      new MemberSpecError('must list id=host:port entries separated by commas (entry 2 is "h:2")'),
    );
    expect(() => parseMemberSpec(" , ")).toThrow(MemberSpecError);
  });
});
