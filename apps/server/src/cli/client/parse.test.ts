import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { durationMs, leaseId, nonNegativeInt, positiveInt } from "./parse.js";

describe("value parsers", () => {
  it("reads durations with units; a bare number is seconds", () => {
    expect(durationMs("500ms")).toBe(500);
    expect(durationMs("5s")).toBe(5000);
    expect(durationMs("1.5s")).toBe(1500);
    expect(durationMs("2m")).toBe(120_000);
    expect(durationMs("1h")).toBe(3_600_000);
    expect(durationMs("3")).toBe(3000);
    for (const bad of ["", "0s", "5x", "-1s", "s"]) {
      expect(() => durationMs(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it("reads integers and refuses what is not one", () => {
    expect(nonNegativeInt("0")).toBe(0);
    expect(positiveInt("42")).toBe(42);
    expect(() => positiveInt("0")).toThrow(/positive/);
    expect(() => nonNegativeInt("1.5")).toThrow(InvalidArgumentError);
    expect(() => nonNegativeInt("-3")).toThrow(InvalidArgumentError);
    expect(() => nonNegativeInt("99999999999999999999")).toThrow(/too large/);
  });

  it("reads lease ids in decimal or 0x hex", () => {
    expect(leaseId("0x1f")).toBe(31);
    expect(leaseId("0X1F")).toBe(31);
    expect(leaseId("31")).toBe(31);
    expect(() => leaseId("0")).toThrow(InvalidArgumentError);
    expect(() => leaseId("abc")).toThrow(InvalidArgumentError);
  });
});
