// The loop's deferred commit broadcast: a leader whose commit index advanced with nothing else to
// send holds the commit-only appends for commitBroadcastDelayMs, then sends them, unless a new
// proposal's appends carry the commit index first. The core is real; the "followers" are this
// test, answering appends as a caught-up peer would.
import {
  MemoryStorage,
  type Message,
  MessageType,
  message,
  RawNode,
  type Ready,
  StateRole,
  seededRng,
} from "@d-engine/core";
import { afterEach, describe, expect, it } from "vitest";
import { SILENT_ENGINE_LOGGER } from "../logger.js";
import { NodeLoop, type ReadyProcessor } from "./node-loop.js";

/** Node 1 of voters {1, 2, 3} in a loop whose processor persists into memory and records sends. */
function leaderLoop(commitBroadcastDelayMs: number) {
  const storage = MemoryStorage.withMembers([1, 2, 3], []);
  const raw = new RawNode({
    id: 1,
    electionTick: 10,
    heartbeatTick: 1,
    storage,
    rng: seededRng(1),
    preVote: false,
    deferCommitBroadcast: commitBroadcastDelayMs > 0,
  });
  const sent: Message[] = [];
  /** Checked after every Ready and every drain (see `until`). */
  let onProgress: (() => void) | undefined;
  const processor: ReadyProcessor = {
    async process(rd: Ready) {
      if (rd.snapshot) storage.applySnapshot(rd.snapshot);
      storage.append(rd.entries);
      if (rd.hardState) storage.setHardState(rd.hardState);
      sent.push(...rd.messages, ...rd.messagesAfterPersist);
      onProgress?.();
    },
    afterTick() {},
    afterDrain() {
      onProgress?.();
    },
    fatal(e) {
      throw e;
    },
    holdsApplies: () => false,
    applyHeld() {},
  };
  // A tick far away: no heartbeat carries the commit index during the test.
  const loop = new NodeLoop(raw, 60_000, processor, SILENT_ENGINE_LOGGER, {
    commitBroadcastDelayMs,
  });
  /** Resolves with `get()` once it is defined, checked as the loop makes progress (no sleeping). */
  const until = <T>(get: () => T | undefined) =>
    new Promise<T>((resolve) => {
      const check = () => {
        const v = get();
        if (v !== undefined) {
          onProgress = undefined;
          resolve(v);
        }
      };
      onProgress = check;
      check();
    });
  const sentMatching = (pred: (m: Message) => boolean) => until(() => sent.find(pred));
  return { raw, loop, sent, until, sentMatching };
}

/** The acknowledgements a caught-up follower sends for every append in `msgs`. */
function acks(msgs: readonly Message[]): Message[] {
  return msgs
    .filter((m) => m.type === MessageType.App)
    .map((m) =>
      message({
        type: MessageType.AppResp,
        from: m.to,
        to: 1,
        term: m.term,
        index: m.index + m.entries.length,
      }),
    );
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** Elects node 1 and lets its no-op commit; returns the harness with nothing left pending. */
async function electedLeader(delayMs: number) {
  const h = leaderLoop(delayMs);
  stop = () => h.loop.stop();
  h.loop.start();
  h.raw.campaign();
  h.loop.schedule();
  const vote = await h.sentMatching((m) => m.type === MessageType.Vote);
  h.loop.step(2, [message({ type: MessageType.VoteResp, from: 2, to: 1, term: vote.term })]);
  const noop = await h.sentMatching((m) => m.type === MessageType.App && m.to === 2);
  expect(h.raw.raft.role).toBe(StateRole.Leader);
  h.loop.step(2, acks([noop]));
  return h;
}

describe("NodeLoop: deferred commit broadcast", () => {
  it("sends the commit-only appends after the delay when no proposal carries them", async () => {
    const h = await electedLeader(5);
    // The no-op committed on node 2's answer: a commit-only append follows, after the delay.
    const commitOnly = await h.sentMatching(
      (m) => m.type === MessageType.App && m.entries.length === 0 && m.commit >= 1,
    );
    expect(commitOnly.commit).toBe(h.raw.raft.log.committed);
    expect(h.raw.hasPendingCommitBroadcast()).toBe(false);
  });

  it("a proposal before the delay carries the commit index: no commit-only append", async () => {
    const h = await electedLeader(60_000);
    const noopIndex = h.raw.raft.log.lastIndex();
    // The drain that took node 2's answer leaves the commit-only broadcast waiting.
    await h.until(() => (h.raw.hasPendingCommitBroadcast() ? true : undefined));
    expect(h.raw.raft.log.committed).toBe(noopIndex);
    const before = h.sent.length;
    h.raw.propose(new Uint8Array([1]));
    h.loop.schedule();
    const app = await h.sentMatching(
      (m) => m.type === MessageType.App && m.entries.length === 1 && m.index === noopIndex,
    );
    expect(app.commit).toBe(noopIndex);
    const later = h.sent.slice(before);
    expect(later.filter((m) => m.type === MessageType.App && m.entries.length === 0)).toEqual([]);
    expect(h.raw.hasPendingCommitBroadcast()).toBe(false);
  });

  it("with delay 0 (eager) the commit-only appends go out with the commit", async () => {
    const h = await electedLeader(0);
    const commitOnly = await h.sentMatching(
      (m) => m.type === MessageType.App && m.entries.length === 0 && m.commit >= 1,
    );
    expect(commitOnly.commit).toBe(h.raw.raft.log.committed);
  });
});

describe("NodeLoop: group commit", () => {
  it("proposals from one callback and the continuations it sets off share one append", async () => {
    const h = await electedLeader(60_000);
    await h.until(() => (h.raw.hasPendingCommitBroadcast() ? true : undefined));
    const first = h.raw.raft.log.lastIndex() + 1;
    const propose = (b: number) => {
      h.raw.propose(new Uint8Array([b]));
      h.loop.schedule();
    };
    // Three now, two more from promise continuations, as clients answered together propose again.
    for (const b of [1, 2, 3]) propose(b);
    void Promise.resolve().then(() => propose(4));
    void Promise.resolve()
      .then(() => undefined)
      .then(() => propose(5));
    const app = await h.sentMatching(
      (m) => m.type === MessageType.App && m.to === 2 && m.entries[0]?.index === first,
    );
    expect(app.entries.map((e) => e.index)).toEqual([0, 1, 2, 3, 4].map((i) => first + i));
  });

  it("the drain starts before the event loop's next turn (a microtask, not setImmediate)", async () => {
    const h = await electedLeader(60_000);
    await h.until(() => (h.raw.hasPendingCommitBroadcast() ? true : undefined));
    // Let the drain that got there finish: the proposal below must start a drain of its own.
    await new Promise((resolve) => setImmediate(resolve));
    let nextTurn = false;
    setImmediate(() => {
      nextTurn = true;
    });
    h.raw.propose(new Uint8Array([1]));
    h.loop.schedule();
    const first = h.raw.raft.log.lastIndex();
    await h.sentMatching((m) => m.type === MessageType.App && m.entries[0]?.index === first);
    expect(nextTurn).toBe(false);
  });
});
