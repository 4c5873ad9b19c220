import { describe, expect, it } from "vitest";
import { RaftError, type RaftErrorCode } from "../errors.js";
import { EMPTY_CONF_STATE, type Entry, type Snapshot } from "../types.js";
import { RaftLog } from "./raft-log.js";
import { MemoryStorage } from "./storage.js";

const entry = (index: number, term: number, size = 0): Entry => ({
  index,
  term,
  type: 0,
  data: new Uint8Array(size),
});
/** Entries from index `from` on with the given terms. */
const ents = (from: number, ...terms: number[]): Entry[] => terms.map((t, i) => entry(from + i, t));
const pairs = (es: readonly Entry[]) => es.map((e) => [e.index, e.term]);
const snap = (index: number, term: number): Snapshot => ({
  metadata: { index, term, confState: EMPTY_CONF_STATE },
  data: new Uint8Array(0),
});

/** A log whose entries are all unstable (appended, not yet persisted). */
function unstableLog(entries: Entry[], maxApplyingBytes = Infinity): RaftLog {
  const log = new RaftLog(new MemoryStorage(), maxApplyingBytes);
  log.append(entries);
  return log;
}

function errorCode(f: () => unknown): RaftErrorCode {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RaftError);
    return (e as RaftError).code;
  }
  throw new Error("expected a RaftError");
}

describe("RaftLog construction", () => {
  it("starts committed and applied at the storage's snapshot index", () => {
    const s = new MemoryStorage();
    s.applySnapshot(snap(3, 2));
    s.append(ents(4, 2, 3));
    const log = new RaftLog(s, Infinity);
    expect(log.committed).toBe(3);
    expect(log.applied).toBe(3);
    expect(log.firstIndex()).toBe(4);
    expect(log.lastIndex()).toBe(5);
    expect(log.lastStableIndex()).toBe(5);
    expect(log.unstableEntries()).toEqual([]);
  });
});

describe("RaftLog.maybeAppend (etcd's TestLogMaybeAppend)", () => {
  // The log holds (1,1) (2,2) (3,3), committed at 1.
  // [name, prev index, prev term, leader commit, entries, returned last new index, commit after]
  const cases: Array<[string, number, number, number, Entry[], number | undefined, number]> = [
    ["term mismatch", 3, 2, 3, ents(4, 4), undefined, 1],
    ["index past end", 4, 3, 3, ents(5, 4), undefined, 1],
    ["match last, commit to it", 3, 3, 3, [], 3, 3],
    ["commit capped at last new", 3, 3, 4, [], 3, 3],
    ["commit to leader's commit", 3, 3, 2, [], 3, 2],
    ["commit never decreases", 3, 3, 0, [], 3, 1],
    ["empty at index 0", 0, 0, 3, [], 0, 1],
    ["append one", 3, 3, 3, ents(4, 4), 4, 3],
    ["append and commit it", 3, 3, 4, ents(4, 4), 4, 4],
    ["commit capped at appended", 3, 3, 5, ents(4, 4), 4, 4],
    ["append two", 3, 3, 5, ents(4, 4, 4), 5, 5],
    ["overwrite last", 2, 2, 3, ents(3, 4), 3, 3],
    ["overwrite middle", 1, 1, 3, ents(2, 4), 2, 2],
    ["overwrite two", 1, 1, 3, ents(2, 4, 4), 3, 3],
  ];
  for (const [name, prevIndex, prevTerm, commit, es, want, wantCommit] of cases) {
    it(name, () => {
      const log = unstableLog(ents(1, 1, 2, 3));
      log.committed = 1;
      expect(log.maybeAppend(prevIndex, prevTerm, commit, es)).toBe(want);
      expect(log.committed).toBe(wantCommit);
      if (want !== undefined && es.length > 0) {
        expect(pairs(log.slice(want - es.length + 1, want + 1, Infinity))).toEqual(pairs(es));
        // Overwriting truncates: the new entries are the end of the log.
        expect(log.lastIndex()).toBe(want);
      }
    });
  }

  it("already-present entries are not rewritten (no conflict, nothing new)", () => {
    const s = new MemoryStorage();
    s.append(ents(1, 1, 2, 3));
    const log = new RaftLog(s, Infinity);
    expect(log.maybeAppend(0, 0, 0, ents(1, 1, 2))).toBe(2);
    // A stale append of a prefix does not truncate the rest of the log.
    expect(log.lastIndex()).toBe(3);
    expect(log.unstableEntries()).toEqual([]);
  });

  it("refuses to overwrite a committed entry: corrupt-state", () => {
    const log = unstableLog(ents(1, 1, 2, 3));
    log.committed = 1;
    expect(errorCode(() => log.maybeAppend(0, 0, 3, ents(1, 4)))).toBe("corrupt-state");
    expect(pairs(log.allEntries())).toEqual(pairs(ents(1, 1, 2, 3)));
  });
});

describe("RaftLog.append", () => {
  it("returns the new last index; an empty append returns the current one", () => {
    const log = unstableLog(ents(1, 1, 2));
    expect(log.append([])).toBe(2);
    expect(log.append(ents(3, 2))).toBe(3);
    expect(log.append(ents(2, 3))).toBe(2);
  });

  it("refuses to append below the commit index: corrupt-state", () => {
    const log = unstableLog(ents(1, 1, 2, 3));
    log.commitTo(2);
    expect(errorCode(() => log.append(ents(2, 5)))).toBe("corrupt-state");
  });
});

describe("RaftLog.findConflict (etcd's TestFindConflict)", () => {
  const log = unstableLog(ents(1, 1, 2, 3));
  const cases: Array<[string, Entry[], number]> = [
    ["empty", [], 0],
    ["all present", ents(1, 1, 2, 3), 0],
    ["suffix present", ents(2, 2, 3), 0],
    ["last present", ents(3, 3), 0],
    ["new entries after all present", ents(1, 1, 2, 3, 4, 4), 4],
    ["new entries after suffix", ents(2, 2, 3, 4, 4), 4],
    ["new entries after last", ents(3, 3, 4, 4), 4],
    ["only new entries", ents(4, 4, 4), 4],
    ["conflict at 1", ents(1, 4, 4), 1],
    ["conflict at 2", ents(2, 1, 4, 4), 2],
    ["conflict at 3", ents(3, 1, 2, 4, 4), 3],
  ];
  for (const [name, es, want] of cases) {
    it(name, () => expect(log.findConflict(es)).toBe(want));
  }
});

describe("RaftLog.findConflictByTerm (etcd's TestFindConflictByTerm)", () => {
  /** A log with a snapshot at (snapIndex, snapTerm) followed by entries of `terms`. */
  function logWith(snapIndex: number, snapTerm: number, terms: number[]): RaftLog {
    const s = new MemoryStorage();
    if (snapIndex > 0) s.applySnapshot(snap(snapIndex, snapTerm));
    const log = new RaftLog(s, Infinity);
    log.append(ents(snapIndex + 1, ...terms));
    return log;
  }

  const cases: Array<[string, () => RaftLog, number, number, number]> = [];
  const fresh = () => logWith(0, 0, [2, 2, 5, 5, 5]);
  for (const [index, term, want] of [
    [100, 2, 100], // unavailable: past the end, term unknown
    [5, 6, 5],
    [5, 5, 5],
    [5, 4, 2],
    [5, 2, 2],
    [5, 1, 0],
    [1, 2, 1],
    [1, 1, 0],
    [0, 0, 0],
  ] as const) {
    cases.push([`log from 1: (${index}, ${term}) -> ${want}`, fresh, index, term, want]);
  }
  const compacted = () => logWith(10, 3, [3, 3, 4, 4, 4]);
  for (const [index, term, want] of [
    [30, 3, 30], // unavailable
    [14, 9, 14],
    [14, 4, 14],
    [14, 3, 12],
    [14, 2, 9], // walks into the compacted part: term unknown
    [11, 5, 11],
    [10, 5, 10],
    [10, 3, 10],
    [10, 2, 9],
    [9, 2, 9], // compacted
    [4, 2, 4], // compacted
    [0, 0, 0],
  ] as const) {
    cases.push([`snapshot at 10: (${index}, ${term}) -> ${want}`, compacted, index, term, want]);
  }

  for (const [name, make, index, term, want] of cases) {
    it(name, () => {
      const log = make();
      const [gotIndex, gotTerm] = log.findConflictByTerm(index, term);
      expect(gotIndex).toBe(want);
      // The term is ours at that index, or 0 when it is unknown (compacted or past the end).
      expect(gotTerm).toBe(log.maybeTerm(gotIndex) ?? 0);
    });
  }
});

describe("RaftLog.isUpToDate (etcd's TestIsUpToDate)", () => {
  const log = unstableLog(ents(1, 1, 2, 3));
  it("a greater last term wins whatever the index", () => {
    for (const i of [2, 3, 4]) expect(log.isUpToDate(i, 4)).toBe(true);
  });
  it("a smaller last term loses whatever the index", () => {
    for (const i of [2, 3, 4]) expect(log.isUpToDate(i, 2)).toBe(false);
  });
  it("with the same last term, an equal or longer log wins", () => {
    expect(log.isUpToDate(2, 3)).toBe(false);
    expect(log.isUpToDate(3, 3)).toBe(true);
    expect(log.isUpToDate(4, 3)).toBe(true);
  });
});

describe("RaftLog commit and apply", () => {
  it("commitTo never decreases", () => {
    const log = unstableLog(ents(1, 1, 1, 1));
    log.commitTo(3);
    log.commitTo(2);
    expect(log.committed).toBe(3);
  });

  it("commitTo beyond lastIndex is corrupt-state", () => {
    const log = unstableLog(ents(1, 1, 1));
    expect(errorCode(() => log.commitTo(3))).toBe("corrupt-state");
    expect(log.committed).toBe(0);
  });

  it("maybeCommit commits only an entry of the given term", () => {
    const log = unstableLog(ents(1, 1, 2));
    expect(log.maybeCommit(1, 2)).toBe(false);
    expect(log.committed).toBe(0);
    expect(log.maybeCommit(2, 2)).toBe(true);
    expect(log.committed).toBe(2);
    expect(log.maybeCommit(2, 2)).toBe(false);
  });

  it("appliedTo must stay within [applied, committed]", () => {
    const log = unstableLog(ents(1, 1, 1, 1));
    log.commitTo(2);
    expect(errorCode(() => log.appliedTo(3))).toBe("contract-violation");
    log.appliedTo(2);
    expect(log.applied).toBe(2);
    expect(errorCode(() => log.appliedTo(1))).toBe("contract-violation");
    // 0 means "nothing applied yet" and is ignored.
    log.appliedTo(0);
    expect(log.applied).toBe(2);
  });
});

describe("RaftLog.nextCommittedEntries", () => {
  /** Five committed entries with 100-byte payloads (124 bytes each with overhead). */
  function committedLog(maxApplyingBytes: number): RaftLog {
    const log = unstableLog(
      [1, 2, 3, 4, 5].map((i) => entry(i, 1, 100)),
      maxApplyingBytes,
    );
    log.commitTo(5);
    return log;
  }

  it("returns committed, unapplied entries up to the byte budget", () => {
    const log = committedLog(250);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([1, 2]);
    log.appliedTo(2);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([3, 4]);
  });

  it("returns at least one entry even over budget", () => {
    expect(
      committedLog(0)
        .nextCommittedEntries()
        .map((e) => e.index),
    ).toEqual([1]);
  });

  it("returns nothing once everything committed is applied", () => {
    const log = committedLog(Infinity);
    log.appliedTo(5);
    expect(log.nextCommittedEntries()).toEqual([]);
    expect(log.hasNextCommittedEntries()).toBe(false);
  });

  it("returns nothing while a snapshot is pending", () => {
    const log = committedLog(Infinity);
    log.restore(snap(8, 2));
    expect(log.hasNextCommittedEntries()).toBe(false);
    expect(log.nextCommittedEntries()).toEqual([]);
  });
});

describe("RaftLog.slice across the stable/unstable boundary", () => {
  /** Entries 1..3 stable in storage, 4..6 unstable. */
  function splitLog(): RaftLog {
    const s = new MemoryStorage();
    s.append(ents(1, 1, 1, 1));
    const log = new RaftLog(s, Infinity);
    log.append(ents(4, 2, 2, 2));
    return log;
  }

  it("joins the stored and the unstable part", () => {
    const log = splitLog();
    expect(log.lastStableIndex()).toBe(3);
    expect(log.slice(2, 6, Infinity).map((e) => e.index)).toEqual([2, 3, 4, 5]);
    expect(log.slice(4, 7, Infinity).map((e) => e.index)).toEqual([4, 5, 6]);
    expect(log.slice(1, 3, Infinity).map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(3, 3, Infinity)).toEqual([]);
  });

  it("a byte budget used up in storage stops before the unstable part", () => {
    expect(
      splitLog()
        .slice(1, 7, 48)
        .map((e) => e.index),
    ).toEqual([1, 2]);
  });

  it("a byte budget used up in the unstable part cuts there", () => {
    expect(
      splitLog()
        .slice(2, 7, 72)
        .map((e) => e.index),
    ).toEqual([2, 3, 4]);
  });

  it("rejects compacted, out-of-range and inverted slices", () => {
    const s = new MemoryStorage();
    s.applySnapshot(snap(3, 1));
    const log = new RaftLog(s, Infinity);
    log.append(ents(4, 1, 1));
    expect(errorCode(() => log.slice(3, 5, Infinity))).toBe("compacted");
    expect(() => log.slice(4, 7, Infinity)).toThrow(RangeError);
    expect(() => log.slice(5, 4, Infinity)).toThrow(RangeError);
  });

  it("entries(i) reads to the end, and is empty past it", () => {
    const log = splitLog();
    expect(log.entries(5, Infinity).map((e) => e.index)).toEqual([5, 6]);
    expect(log.entries(7, Infinity)).toEqual([]);
  });

  it("stableTo moves the boundary", () => {
    const log = splitLog();
    log.stableTo(5, 2);
    expect(log.lastStableIndex()).toBe(5);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([6]);
  });
});

describe("RaftLog.restore", () => {
  it("replaces the log with a snapshot and commits up to it", () => {
    const log = unstableLog(ents(1, 1, 1, 1));
    const s = snap(10, 4);
    log.restore(s);
    expect(log.committed).toBe(10);
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(10);
    expect(log.term(10)).toBe(4);
    expect(log.lastTerm()).toBe(4);
    expect(log.hasPendingSnapshot()).toBe(true);
    expect(log.snapshot()).toBe(s);
    expect(log.unstableEntries()).toEqual([]);
    expect(log.append(ents(11, 4))).toBe(11);
  });

  it("stableSnapTo clears the pending snapshot", () => {
    const log = unstableLog([]);
    log.restore(snap(10, 4));
    log.stableSnapTo(10);
    expect(log.hasPendingSnapshot()).toBe(false);
  });
});

describe("RaftLog.term", () => {
  function compactedLog(): RaftLog {
    const s = new MemoryStorage();
    s.applySnapshot(snap(3, 2));
    s.append(ents(4, 2, 3));
    return new RaftLog(s, Infinity);
  }

  it("answers from firstIndex - 1 to lastIndex", () => {
    const log = compactedLog();
    expect([3, 4, 5].map((i) => log.term(i))).toEqual([2, 2, 3]);
  });

  it("below firstIndex - 1 is compacted", () => {
    expect(errorCode(() => compactedLog().term(2))).toBe("compacted");
  });

  it("past lastIndex is unavailable", () => {
    expect(errorCode(() => compactedLog().term(6))).toBe("unavailable");
  });

  it("maybeTerm turns both errors into undefined", () => {
    const log = compactedLog();
    expect(log.maybeTerm(2)).toBeUndefined();
    expect(log.maybeTerm(6)).toBeUndefined();
    expect(log.matchTerm(5, 3)).toBe(true);
    expect(log.matchTerm(5, 2)).toBe(false);
  });

  it("after a restore, entries before the snapshot are compacted", () => {
    const log = compactedLog();
    log.restore(snap(20, 5));
    expect(errorCode(() => log.term(5))).toBe("compacted");
    expect(errorCode(() => log.term(21))).toBe("unavailable");
  });
});
