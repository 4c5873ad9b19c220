import { describe, expect, it } from "vitest";
import { type RaftConfig, ReadOnlyOption, resolveConfig, SILENT_LOGGER } from "./config.js";
import { RaftError } from "./errors.js";
import { MemoryStorage } from "./log/storage.js";
import { seededRng } from "./rng.js";

function base(over: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id: 1,
    electionTick: 10,
    heartbeatTick: 1,
    storage: new MemoryStorage(),
    rng: seededRng(1),
    ...over,
  };
}

/** The message of the invalid-config RaftError that resolving `over` throws. */
function invalid(over: Partial<RaftConfig>): string {
  try {
    resolveConfig(base(over));
  } catch (e) {
    expect(e).toBeInstanceOf(RaftError);
    expect((e as RaftError).code).toBe("invalid-config");
    return (e as Error).message;
  }
  throw new Error(`config ${JSON.stringify(Object.keys(over))} was accepted`);
}

describe("resolveConfig validation names the bad setting", () => {
  it("id must be a positive safe integer", () => {
    for (const id of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
      expect(invalid({ id })).toMatch(/^id must be a positive integer/);
    }
  });

  it("heartbeatTick must be a positive integer", () => {
    for (const heartbeatTick of [0, -1, 0.5]) {
      expect(invalid({ heartbeatTick })).toMatch(/^heartbeatTick must be a positive integer/);
    }
  });

  it("electionTick must be greater than heartbeatTick", () => {
    expect(invalid({ electionTick: 5, heartbeatTick: 5 })).toBe(
      "electionTick (5) must be greater than heartbeatTick (5)",
    );
    expect(invalid({ electionTick: 3, heartbeatTick: 5 })).toMatch(/^electionTick \(3\)/);
    expect(invalid({ electionTick: 10.5 })).toMatch(/^electionTick/);
  });

  it("lease-based reads require checkQuorum", () => {
    expect(invalid({ readOnlyOption: ReadOnlyOption.LeaseBased, checkQuorum: false })).toMatch(
      /lease-based requires checkQuorum/,
    );
  });

  it("sizes and counts may not be negative (or zero where a budget is needed)", () => {
    expect(invalid({ maxInflightMsgs: 0 })).toMatch(/^maxInflightMsgs must be > 0/);
    expect(invalid({ maxInflightBytes: -1 })).toMatch(/^maxInflightBytes must be >= 0/);
    expect(invalid({ maxSizePerMsg: 0 })).toMatch(/^maxSizePerMsg must be > 0/);
    expect(invalid({ maxUncommittedEntriesSize: -5 })).toMatch(
      /^maxUncommittedEntriesSize must be > 0/,
    );
    expect(invalid({ applied: -1 })).toMatch(/^applied must be >= 0/);
  });

  it("the lease safety margin must be in [0, electionTick)", () => {
    expect(invalid({ leaseSafetyMarginTicks: -1 })).toMatch(/^leaseSafetyMarginTicks/);
    expect(invalid({ leaseSafetyMarginTicks: 10 })).toMatch(/^leaseSafetyMarginTicks/);
    expect(resolveConfig(base({ leaseSafetyMarginTicks: 0 })).leaseSafetyMarginTicks).toBe(0);
    expect(resolveConfig(base({ leaseSafetyMarginTicks: 9 })).leaseSafetyMarginTicks).toBe(9);
  });
});

describe("resolveConfig defaults", () => {
  it("fills every optional setting", () => {
    const r = resolveConfig(base());
    expect(r).toMatchObject({
      applied: 0,
      maxSizePerMsg: 1 << 20,
      maxCommittedSizePerReady: 16 << 20,
      maxInflightMsgs: 256,
      maxInflightBytes: 32 << 20,
      maxUncommittedEntriesSize: 64 << 20,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: ReadOnlyOption.Safe,
      leaseSafetyMarginTicks: 2,
      disableProposalForwarding: false,
      stepDownOnRemoval: true,
    });
    expect(r.logger).toBe(SILENT_LOGGER);
  });

  it("the default lease margin is electionTick / 5, at least 1", () => {
    expect(resolveConfig(base({ electionTick: 23 })).leaseSafetyMarginTicks).toBe(4);
    expect(resolveConfig(base({ electionTick: 3 })).leaseSafetyMarginTicks).toBe(1);
  });

  it("given settings win over defaults, and undefined ones do not erase them", () => {
    const r = resolveConfig(base({ preVote: false, maxInflightMsgs: undefined, applied: 7 }));
    expect(r.preVote).toBe(false);
    expect(r.maxInflightMsgs).toBe(256);
    expect(r.applied).toBe(7);
  });

  it("keeps the required settings as given", () => {
    const c = base();
    const r = resolveConfig(c);
    expect(r.storage).toBe(c.storage);
    expect(r.rng).toBe(c.rng);
    expect(r.id).toBe(1);
  });
});
