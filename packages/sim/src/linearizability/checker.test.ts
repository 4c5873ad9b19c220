import { describe, expect, it } from "vitest";
import { checkHistory } from "./checker.js";
import { formatHistory } from "./format.js";
import type { KvInput, KvOutput, Operation } from "./history.js";

// Tiny builders. `end` undefined means the client never learned the outcome.
let nextId = 0;
function op(
  clientId: number,
  key: string,
  input: KvInput,
  output: KvOutput,
  invoke: number,
  end: number | undefined,
): Operation {
  return {
    id: nextId++,
    clientId,
    key,
    input,
    output: end === undefined ? { kind: "unknown" } : output,
    invoke,
    complete: end ?? Number.POSITIVE_INFINITY,
  };
}
const put = (c: number, key: string, v: string, t0: number, t1?: number) =>
  op(c, key, { op: "put", value: v }, { kind: "ok" }, t0, t1);
const get = (c: number, key: string, v: string | null, t0: number, t1?: number) =>
  op(c, key, { op: "get" }, { kind: "value", value: v }, t0, t1);
const cas = (
  c: number,
  key: string,
  expectValue: string | null,
  v: string,
  swapped: boolean,
  t0: number,
  t1?: number,
) =>
  op(
    c,
    key,
    { op: "cas", expect: expectValue, value: v },
    { kind: "swapped", ok: swapped },
    t0,
    t1,
  );
const del = (c: number, key: string, t0: number, t1?: number) =>
  op(c, key, { op: "delete" }, { kind: "ok" }, t0, t1);

function expectViolation(history: Operation[], mustInclude: Operation[]) {
  const result = checkHistory(history);
  if (result.ok !== false) throw new Error(`expected a violation, got ${JSON.stringify(result)}`);
  const ids = result.minimal.map((o) => o.id);
  for (const o of mustInclude) expect(ids).toContain(o.id);
  return result;
}

describe("checkHistory: linearizable histories", () => {
  it("accepts the empty history", () => {
    expect(checkHistory([])).toEqual({ ok: true });
  });

  it("accepts a sequential history of every operation", () => {
    const h = [
      get(1, "k", null, 0, 1),
      put(1, "k", "a", 2, 3),
      get(2, "k", "a", 4, 5),
      cas(1, "k", "a", "b", true, 6, 7),
      cas(2, "k", "a", "c", false, 8, 9),
      get(1, "k", "b", 10, 11),
      del(2, "k", 12, 13),
      get(1, "k", null, 14, 15),
      cas(2, "k", null, "d", true, 16, 17),
      get(1, "k", "d", 18, 19),
    ];
    expect(checkHistory(h)).toEqual({ ok: true });
  });

  it("accepts reads of either of two overlapping writes, in a consistent order", () => {
    const h = [
      put(1, "k", "a", 0, 10),
      put(2, "k", "b", 0, 10),
      get(3, "k", "a", 1, 5),
      get(4, "k", "b", 2, 6),
      get(3, "k", "b", 11, 12),
    ];
    expect(checkHistory(h)).toEqual({ ok: true });
    const other = [
      put(1, "k", "a", 0, 10),
      put(2, "k", "b", 0, 10),
      get(3, "k", "b", 1, 5),
      get(3, "k", "a", 11, 12),
    ];
    expect(checkHistory(other)).toEqual({ ok: true });
  });

  it("accepts a create-if-absent race that exactly one cas wins", () => {
    const h = [
      cas(1, "k", null, "x1", false, 0, 10),
      cas(2, "k", null, "x2", true, 1, 9),
      cas(3, "k", null, "x3", false, 2, 8),
      get(1, "k", "x2", 11, 12),
    ];
    expect(checkHistory(h)).toEqual({ ok: true });
  });

  it("treats intervals that merely touch as concurrent", () => {
    expect(checkHistory([put(1, "k", "a", 0, 5), get(2, "k", null, 5, 6)])).toEqual({ ok: true });
  });

  it("checks keys independently", () => {
    const h = [put(1, "a", "1", 0, 1), put(1, "b", "2", 2, 3), get(2, "a", "1", 4, 5)];
    expect(checkHistory(h)).toEqual({ ok: true });
  });
});

describe("checkHistory: violations", () => {
  it("rejects a stale read after a newer write completed", () => {
    const stale = get(3, "k", "a", 4, 5);
    const h = [put(1, "k", "a", 0, 1), put(2, "k", "b", 2, 3), stale];
    const result = expectViolation(h, h);
    expect(result.key).toBe("k");
    expect(result.explanation).toContain("no order of these 3 operations explains every output");
  });

  it("rejects a lost write: completed, yet later reads still see the value before it", () => {
    const lost = put(2, "k", "b", 2, 3);
    const h = [
      put(1, "k", "a", 0, 1),
      lost,
      get(1, "k", "a", 4, 5),
      get(3, "k", "a", 6, 7),
      get(1, "k", "a", 8, 9),
    ];
    const result = expectViolation(h, [lost]);
    expect(result.minimal.length).toBe(3);
  });

  it("rejects a read of a value never written and says so", () => {
    const bogus = get(2, "k", "z", 2, 3);
    const result = expectViolation([put(1, "k", "a", 0, 1), bogus], [bogus]);
    expect(result.minimal).toEqual([bogus]);
    expect(result.explanation).toContain("no order of this operation");
    expect(result.explanation).toContain("read a value no operation on this key wrote");
  });

  it("rejects two cas swaps from the same expected value", () => {
    const a = cas(1, "k", null, "x1", true, 0, 10);
    const b = cas(2, "k", null, "x2", true, 1, 9);
    expectViolation([a, b], [a, b]);
  });

  it("rejects reads that go back in time across a write", () => {
    const h = [
      put(1, "k", "a", 0, 1),
      put(2, "k", "b", 2, 20),
      get(3, "k", "b", 3, 4),
      get(3, "k", "a", 5, 6),
    ];
    expectViolation(h, h);
  });

  it("rejects a read of a deleted value", () => {
    const h = [put(1, "k", "a", 0, 1), del(2, "k", 2, 3), get(1, "k", "a", 4, 5)];
    expectViolation(h, h);
  });

  it("reports the violating key when other keys are fine", () => {
    const h = [
      put(1, "fine", "1", 0, 1),
      get(2, "fine", "1", 2, 3),
      put(1, "bad", "x", 4, 5),
      get(2, "bad", null, 6, 7),
    ];
    const result = checkHistory(h);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.key).toBe("bad");
  });
});

describe("checkHistory: unknown outcomes", () => {
  it("accepts a history explained only if the unknown write happened", () => {
    expect(checkHistory([put(1, "k", "a", 0), get(2, "k", "a", 5, 6)])).toEqual({ ok: true });
  });

  it("accepts a history explained only if the unknown write did not happen (yet)", () => {
    const h = [put(1, "k", "a", 0, 1), put(2, "k", "b", 2), get(3, "k", "a", 5, 6)];
    expect(checkHistory(h)).toEqual({ ok: true });
    // The same write, known to have completed before the read, is a violation: the unknown
    // outcome is what makes the history acceptable.
    const known = [put(1, "k", "a", 0, 1), put(2, "k", "b", 2, 3), get(3, "k", "a", 5, 6)];
    expect(checkHistory(known).ok).toBe(false);
  });

  it("rejects a history explained neither with nor without the unknown write", () => {
    const maybe = put(2, "k", "b", 2);
    const h = [put(1, "k", "a", 0, 1), maybe, get(3, "k", "b", 3, 4), get(3, "k", "a", 5, 6)];
    const result = expectViolation(h, h);
    expect(formatHistory(result.minimal)).toMatch(/\[t=2 \.\. \?\] +put k "b" -> unknown/);
  });

  it("lets an unknown cas win a create race it did not report", () => {
    const h = [
      cas(1, "k", null, "x", true, 0),
      cas(2, "k", null, "y", false, 1, 2),
      get(3, "k", "x", 3, 4),
    ];
    expect(checkHistory(h)).toEqual({ ok: true });
  });

  it("lets an unknown operation take effect after the client gave up on it", () => {
    const gaveUp: Operation = { ...put(1, "k", "a", 0), complete: 5 };
    const h = [gaveUp, get(2, "k", null, 6, 7), get(2, "k", "a", 8, 9)];
    expect(checkHistory(h)).toEqual({ ok: true });
  });

  it("ignores gets whose answer was lost", () => {
    expect(checkHistory([get(1, "k", "never", 0), put(2, "k", "a", 1, 2)])).toEqual({ ok: true });
  });
});

describe("checkHistory: budget and input checks", () => {
  // Twelve concurrent unknown writes and reads that rule most orders out: a big search.
  function hardKey(key: string): Operation[] {
    const h: Operation[] = [];
    for (let i = 0; i < 12; i++) h.push(put(i, key, `v${i}`, i));
    for (let i = 0; i < 12; i++)
      h.push(get(20 + i, key, `v${(i * 5) % 12}`, 20 + 2 * i, 21 + 2 * i));
    return h;
  }

  it("answers unknown instead of searching past the budget", () => {
    const result = checkHistory(hardKey("k"), { maxStepsPerKey: 50 });
    expect(result.ok).toBe("unknown");
    expect(result.ok === "unknown" && result.key).toBe("k");
    expect(result.ok === "unknown" && result.reason).toContain("50 search steps");
  });

  it("still reports a violation on another key when one key runs out of budget", () => {
    const h = [...hardKey("hard"), put(1, "bad", "a", 0, 1), get(2, "bad", "b", 2, 3)];
    const result = checkHistory(h, { maxStepsPerKey: 50 });
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.key).toBe("bad");
  });

  it("throws on a malformed history", () => {
    const a = put(1, "k", "a", 0, 1);
    expect(() => checkHistory([a, a])).toThrow(/duplicate operation id/);
    expect(() => checkHistory([{ ...a, complete: -1 }])).toThrow(/before its invoke/);
    expect(() => checkHistory([{ ...a, output: { kind: "value", value: "a" } }])).toThrow(
      /cannot return/,
    );
  });

  it("can report the key's whole history unshrunk", () => {
    const h = [put(1, "k", "a", 0, 1), put(1, "k", "b", 2, 3), get(2, "k", "a", 4, 5)];
    h.push(get(2, "k", "b", 6, 7)); // not needed for the violation
    const result = checkHistory(h, { shrink: false });
    expect(result.ok === false && result.minimal.length).toBe(4);
  });
});

describe("formatHistory", () => {
  it("renders aligned lines sorted by invocation", () => {
    const h = [
      get(2, "k1", "a", 10, 14),
      put(1, "k1", "b", 3),
      cas(12, "k1", null, "c", false, 5, 6),
      del(1, "k1", 20, 21),
    ];
    expect(formatHistory(h)).toBe(
      [
        'client 1   [t=3 .. ?]      put k1 "b" -> unknown',
        'client 12  [t=5 .. t=6]    cas k1 absent => "c" -> not swapped',
        'client 2   [t=10 .. t=14]  get k1 -> "a"',
        "client 1   [t=20 .. t=21]  delete k1 -> ok",
      ].join("\n"),
    );
  });
});
