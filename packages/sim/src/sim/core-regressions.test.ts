// Regression tests for two core bugs the simulator found (seeds replayable with the soak CLI).
// They drive a RawNode directly, following the Ready contract by hand.
import {
  type ConfChange,
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  encodeConfChange,
  MemoryStorage,
  MessageType,
  message,
  RawNode,
  seededRng,
} from "@d-engine/core";
import { describe, expect, it } from "vitest";

describe("core fixes found by the simulator", () => {
  it("a single voter's first appends wait until its new term is durable", () => {
    // Found as a leader reusing a term after a crash: a single voter wins its election within
    // one step, so its new term and its appends share the first Ready. Sent before the fsync, the
    // appends could outlive the term on the learner while the leader restarts in the old term,
    // wins the same term again and appends different entries at the same indexes.
    const n = new RawNode({
      id: 1,
      electionTick: 10,
      heartbeatTick: 1,
      storage: MemoryStorage.withMembers([1], [2]),
      rng: seededRng(1),
    });
    n.campaign();
    const rd = n.ready();
    expect(rd.hardState?.term).toBe(1);
    expect(rd.softState?.role).toBe("leader");
    expect(rd.messages.filter((m) => m.type === MessageType.App)).toEqual([]);
    expect(rd.messagesAfterPersist.some((m) => m.type === MessageType.App && m.to === 2)).toBe(
      true,
    );
    n.advance();
    // Once the term is durable, a leader's messages go out before the write again (thesis
    // §10.2.1): here the next heartbeat.
    n.tick();
    const next = n.ready();
    expect(next.messages.some((m) => m.type === MessageType.Heartbeat && m.to === 2)).toBe(true);
  });

  it("a snapshot waits until the committed entries being applied are applied", () => {
    // Found as "can't apply simple config change in joint config" (soak seed 8516): a follower
    // took a leader's snapshot while the runtime was still applying an older membership change,
    // which then applied on top of the snapshot's configuration and left a bogus joint config.
    const storage = MemoryStorage.withMembers([1, 2, 3]);
    const n = new RawNode({
      id: 2,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      rng: seededRng(2),
    });
    const replace: ConfChange = {
      transition: ConfChangeTransition.Auto,
      changes: [
        { type: ConfChangeType.AddNode, nodeId: 4 },
        { type: ConfChangeType.RemoveNode, nodeId: 3 },
      ],
      context: new Uint8Array(0),
    };
    const entry = {
      term: 1,
      index: 1,
      type: EntryType.ConfChange,
      data: encodeConfChange(replace),
    };
    n.step(
      message({ type: MessageType.App, from: 1, to: 2, term: 1, entries: [entry], commit: 1 }),
    );
    const rd = n.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1]);
    // While the runtime works on that Ready, the leader's snapshot (taken after the joint change
    // was entered and left) arrives.
    const after = {
      voters: [1, 2, 4],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    const snap = message({
      type: MessageType.Snap,
      from: 1,
      to: 2,
      term: 1,
      snapshot: { metadata: { index: 5, term: 1, confState: after }, data: new Uint8Array(0) },
    });
    n.step(snap);
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    // The change applies to the configuration it was proposed against: a joint one.
    const cs = n.applyConfChange(RawNode.decodeConfChange(entry));
    expect(cs.votersOutgoing).toEqual([1, 2, 3]);
    n.advance();
    // Sent again (the leader retries), the snapshot now installs with its configuration.
    n.step(snap);
    const next = n.ready();
    expect(next.snapshot?.metadata.index).toBe(5);
    expect(n.status().config).toEqual(after);
  });
});
