import { describe, expect, it } from "vitest";
import { initialKvState, kvStep, outputFits } from "./model.js";

const ok = { kind: "ok" } as const;
const unknown = { kind: "unknown" } as const;
const value = (v: string | null) => ({ kind: "value", value: v }) as const;
const swapped = (b: boolean) => ({ kind: "swapped", ok: b }) as const;

describe("kvStep", () => {
  it("starts absent", () => {
    expect(initialKvState).toBeNull();
  });

  it("put sets the value whatever the previous state", () => {
    expect(kvStep(null, { op: "put", value: "a" }, ok)).toBe("a");
    expect(kvStep("x", { op: "put", value: "a" }, ok)).toBe("a");
    expect(kvStep("x", { op: "put", value: "a" }, unknown)).toBe("a");
  });

  it("get must return the state and leaves it unchanged", () => {
    expect(kvStep("a", { op: "get" }, value("a"))).toBe("a");
    expect(kvStep(null, { op: "get" }, value(null))).toBeNull();
    expect(kvStep("a", { op: "get" }, value("b"))).toBeUndefined();
    expect(kvStep("a", { op: "get" }, value(null))).toBeUndefined();
    expect(kvStep(null, { op: "get" }, value("a"))).toBeUndefined();
    expect(kvStep("a", { op: "get" }, unknown)).toBe("a");
  });

  it("cas swaps exactly when the state equals expect, null meaning absent", () => {
    const create = { op: "cas", expect: null, value: "b" } as const;
    const replace = { op: "cas", expect: "a", value: "b" } as const;
    expect(kvStep(null, create, swapped(true))).toBe("b");
    expect(kvStep("a", create, swapped(true))).toBeUndefined();
    expect(kvStep("a", create, swapped(false))).toBe("a");
    expect(kvStep(null, create, swapped(false))).toBeUndefined();
    expect(kvStep("a", replace, swapped(true))).toBe("b");
    expect(kvStep("c", replace, swapped(true))).toBeUndefined();
    expect(kvStep(null, replace, swapped(false))).toBeNull();
    expect(kvStep("a", replace, swapped(false))).toBeUndefined();
  });

  it("an unknown cas outcome still has the deterministic effect", () => {
    const replace = { op: "cas", expect: "a", value: "b" } as const;
    expect(kvStep("a", replace, unknown)).toBe("b");
    expect(kvStep("c", replace, unknown)).toBe("c");
    expect(kvStep(null, replace, unknown)).toBeNull();
  });

  it("delete makes the key absent", () => {
    expect(kvStep("a", { op: "delete" }, ok)).toBeNull();
    expect(kvStep(null, { op: "delete" }, ok)).toBeNull();
    expect(kvStep("a", { op: "delete" }, unknown)).toBeNull();
  });

  it("rejects outputs of the wrong shape", () => {
    expect(kvStep("a", { op: "put", value: "b" }, value("b"))).toBeUndefined();
    expect(kvStep("a", { op: "get" }, ok)).toBeUndefined();
    expect(kvStep("a", { op: "cas", expect: "a", value: "b" }, ok)).toBeUndefined();
    expect(kvStep("a", { op: "delete" }, swapped(true))).toBeUndefined();
    expect(outputFits({ op: "get" }, ok)).toBe(false);
    expect(outputFits({ op: "get" }, value(null))).toBe(true);
    expect(outputFits({ op: "delete" }, unknown)).toBe(true);
  });
});
