import { describe, expect, it } from "vitest";
import { Progress, ProgressState } from "./progress.js";

function progress(next: number, match = 0, maxInflight = 4, maxInflightBytes = 0): Progress {
  return new Progress({ next, match, maxInflight, maxInflightBytes, isLearner: false });
}

describe("Progress state transitions", () => {
  it("starts in Probe", () => {
    expect(progress(5).state).toBe(ProgressState.Probe);
  });

  it("becomeReplicate resumes right after match and clears the window", () => {
    const p = progress(10, 4);
    p.becomeReplicate();
    expect(p.state).toBe(ProgressState.Replicate);
    expect(p.next).toBe(5);
    p.sentEntries(2, 0);
    p.becomeReplicate();
    expect(p.inflights.length).toBe(0);
  });

  it("becomeProbe from Replicate restarts at match + 1", () => {
    const p = progress(10, 4);
    p.becomeReplicate();
    p.sentEntries(3, 0);
    p.becomeProbe();
    expect(p.state).toBe(ProgressState.Probe);
    expect(p.next).toBe(5);
    expect(p.inflights.length).toBe(0);
    expect(p.msgAppFlowPaused).toBe(false);
  });

  it("becomeSnapshot records the pending snapshot and pauses", () => {
    const p = progress(5, 1);
    p.becomeSnapshot(10);
    expect(p.state).toBe(ProgressState.Snapshot);
    expect(p.pendingSnapshot).toBe(10);
    expect(p.isPaused()).toBe(true);
  });

  it("becomeProbe after a snapshot uses max(match + 1, pendingSnapshot + 1)", () => {
    // The follower has at least the snapshot's entries.
    const a = progress(5, 1);
    a.becomeSnapshot(10);
    a.becomeProbe();
    expect(a.next).toBe(11);
    expect(a.pendingSnapshot).toBe(0);
    // If the follower already acknowledged past the snapshot, match wins.
    const b = progress(5, 1);
    b.becomeSnapshot(10);
    b.maybeUpdate(15);
    b.becomeProbe();
    expect(b.next).toBe(16);
    // A failed snapshot (pending 0) falls back to match + 1.
    const c = progress(5, 1);
    c.becomeSnapshot(0);
    c.becomeProbe();
    expect(c.next).toBe(2);
  });
});

describe("Progress.maybeUpdate", () => {
  it("rejects old news (n <= match)", () => {
    const p = progress(6, 5);
    expect(p.maybeUpdate(5)).toBe(false);
    expect(p.maybeUpdate(3)).toBe(false);
    expect(p.match).toBe(5);
  });

  it("advances match, raises next only if behind, and unpauses", () => {
    const p = progress(6, 5);
    p.sentEntries(1, 0); // probe outstanding
    expect(p.isPaused()).toBe(true);
    expect(p.maybeUpdate(7)).toBe(true);
    expect(p.match).toBe(7);
    expect(p.next).toBe(8);
    expect(p.isPaused()).toBe(false);
    const q = progress(20, 5);
    q.maybeUpdate(7);
    expect(q.next).toBe(20);
  });
});

describe("Progress.maybeDecrTo in Replicate", () => {
  it("ignores a stale rejection at or below match", () => {
    const p = progress(10, 5);
    p.becomeReplicate();
    p.next = 10;
    expect(p.maybeDecrTo(5, 5)).toBe(false);
    expect(p.maybeDecrTo(3, 0)).toBe(false);
    expect(p.next).toBe(10);
  });

  it("falls back to match + 1 on a real rejection, ignoring the hint", () => {
    const p = progress(10, 5);
    p.becomeReplicate();
    p.next = 10;
    expect(p.maybeDecrTo(9, 2)).toBe(true);
    expect(p.next).toBe(6);
  });
});

describe("Progress.maybeDecrTo in Probe", () => {
  it("only the answer to the outstanding probe (next - 1) counts", () => {
    const p = progress(10, 0);
    expect(p.maybeDecrTo(8, 0)).toBe(false);
    expect(p.maybeDecrTo(10, 0)).toBe(false);
    expect(p.next).toBe(10);
  });

  it("moves next to the follower's hint + 1", () => {
    const p = progress(10, 0);
    expect(p.maybeDecrTo(9, 4)).toBe(true);
    expect(p.next).toBe(5);
  });

  it("never moves next above the rejected index even if the hint is larger", () => {
    const p = progress(10, 0);
    expect(p.maybeDecrTo(9, 20)).toBe(true);
    expect(p.next).toBe(9);
  });

  it("never moves next to or below match", () => {
    const p = progress(10, 6);
    expect(p.maybeDecrTo(9, 2)).toBe(true);
    expect(p.next).toBe(7);
  });

  it("unpauses so the next probe can go out", () => {
    const p = progress(10, 0);
    p.sentEntries(1, 0);
    expect(p.isPaused()).toBe(true);
    expect(p.maybeDecrTo(9, 4)).toBe(true);
    expect(p.isPaused()).toBe(false);
  });
});

describe("Progress.sentEntries and isPaused", () => {
  it("in Probe one append pauses until it is answered; next does not move", () => {
    const p = progress(5, 4);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(0, 0); // an empty probe does not pause
    expect(p.isPaused()).toBe(false);
    p.sentEntries(3, 100);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(5);
    expect(p.inflights.length).toBe(0);
  });

  it("in Replicate appends advance next and fill the window until it is full", () => {
    const p = progress(5, 4, 2);
    p.becomeReplicate();
    p.sentEntries(3, 10);
    expect(p.next).toBe(8);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 10);
    expect(p.next).toBe(9);
    expect(p.isPaused()).toBe(true);
    // The acks free the window; maybeUpdate unpauses.
    p.inflights.freeLE(8);
    p.maybeUpdate(8);
    expect(p.isPaused()).toBe(false);
  });

  it("in Replicate the window also fills by bytes", () => {
    const p = progress(5, 4, 100, 50);
    p.becomeReplicate();
    p.sentEntries(1, 50);
    expect(p.isPaused()).toBe(true);
  });

  it("in Snapshot sending is always paused", () => {
    const p = progress(5, 4);
    p.becomeSnapshot(9);
    p.sentEntries(1, 0);
    expect(p.isPaused()).toBe(true);
    expect(p.next).toBe(5);
  });
});

describe("Progress.clone", () => {
  it("copies every field and shares no state", () => {
    const p = progress(5, 4, 3);
    p.becomeReplicate();
    p.sentEntries(2, 10);
    p.recentActive = true;
    const c = p.clone();
    expect(c.toString()).toBe(p.toString());
    // One append message is one window slot, however many entries it carries.
    p.sentEntries(1, 10);
    expect(p.inflights.length).toBe(2);
    expect(c.inflights.length).toBe(1);
    expect(c.next).toBe(7);
  });
});
