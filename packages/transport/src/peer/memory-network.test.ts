import { type Message, MessageType, message, type NodeId } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { waitFor } from "../testing/wait.js";
import { MemoryNetwork } from "./memory-network.js";
import type {
  IncomingSnapshotHeader,
  OutgoingSnapshot,
  PeerHandler,
  SnapshotReceiver,
} from "./types.js";

/** A handler that records what arrives, and receives snapshots into a byte buffer. */
class Recorder implements PeerHandler {
  readonly got: { from: NodeId; m: Message }[] = [];
  readonly snapshots: Uint8Array[] = [];
  /** Bytes of a broken-off transfer, kept for the resume. */
  partial: number[] = [];
  headers: IncomingSnapshotHeader[] = [];

  onMessages(from: NodeId, messages: readonly Message[]): void {
    for (const m of messages) this.got.push({ from, m });
  }

  async receiveSnapshot(header: IncomingSnapshotHeader): Promise<SnapshotReceiver> {
    this.headers.push(header);
    const self = this;
    return {
      resumeOffset: self.partial.length,
      async write(offset, data) {
        expect(offset).toBe(self.partial.length);
        self.partial.push(...data);
      },
      async finish() {
        self.snapshots.push(Uint8Array.from(self.partial));
        self.partial = [];
      },
      async abort() {},
    };
  }
}

const app = (from: NodeId, to: NodeId, index: number, data = new Uint8Array([index])) =>
  message({
    type: MessageType.App,
    from,
    to,
    term: 1,
    index,
    entries: [{ term: 1, index: index + 1, type: 0, data }],
  });

function outgoing(bytes: Uint8Array, chunk: number): OutgoingSnapshot {
  return {
    term: 3,
    metadata: {
      index: 9,
      term: 2,
      confState: {
        voters: [1, 2],
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      },
    },
    totalBytes: bytes.length,
    crc32c: 0,
    async *chunks(offset: number) {
      for (let p = offset; p < bytes.length; p += chunk) yield bytes.slice(p, p + chunk);
    },
  };
}

describe("MemoryNetwork", () => {
  it("delivers copies, asynchronously and in order per link", async () => {
    const net = new MemoryNetwork();
    const a = new Recorder();
    const b = new Recorder();
    const ta = net.connect(1, a);
    net.connect(2, b);
    const data = new Uint8Array([7, 7]);
    ta.send([app(1, 2, 0, data), app(1, 2, 1)]);
    ta.send([app(1, 2, 2)]);
    expect(b.got).toEqual([]); // not delivered inside send()
    data[0] = 99; // the sender reusing its buffer must not change what arrives
    await waitFor(() => b.got.length === 3, "three messages");
    expect(b.got.map((g) => [g.from, g.m.index])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    expect([...(b.got[0]?.m.entries[0]?.data ?? [])]).toEqual([7, 7]);
    expect(net.stats.delivered).toBe(3);
  });

  it("isolate drops traffic both ways and reports the peer unreachable; heal restores it", async () => {
    const net = new MemoryNetwork();
    const unreachable: NodeId[] = [];
    const a = new Recorder();
    const b = new Recorder();
    const ta = net.connect(1, a, { onUnreachable: (id) => unreachable.push(id) });
    const tb = net.connect(2, b);
    net.isolate(2);
    ta.send([app(1, 2, 0)]);
    tb.send([app(2, 1, 0)]);
    await waitFor(() => unreachable.length === 1, "an unreachable report");
    expect(unreachable).toEqual([2]);
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([]);
    expect(net.stats.dropped).toBe(2);
    net.heal(2);
    ta.send([app(1, 2, 5)]);
    await waitFor(() => b.got.length === 1, "delivery after heal");
    expect(b.got[0]?.m.index).toBe(5);
  });

  it("a partition separates groups but not nodes within a group", async () => {
    const net = new MemoryNetwork();
    const r = [new Recorder(), new Recorder(), new Recorder()];
    const t = r.map((h, i) => net.connect(i + 1, h));
    net.partition([1], [2, 3]);
    t[1]?.send([app(2, 3, 0), app(2, 1, 0)]);
    await waitFor(() => (r[2]?.got.length ?? 0) === 1, "delivery inside the group");
    expect(r[0]?.got).toEqual([]);
    expect(net.canReach(2, 1)).toBe(false);
    expect(net.canReach(2, 3)).toBe(true);
  });

  it("messages in flight when a link is cut are lost", async () => {
    const net = new MemoryNetwork();
    const b = new Recorder();
    const ta = net.connect(1, new Recorder());
    net.connect(2, b);
    ta.send([app(1, 2, 0)]);
    net.cutLink(1, 2);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(b.got).toEqual([]);
    expect(net.stats.dropped).toBe(1);
  });

  it("streams a snapshot in chunks into the receiver and resumes a broken transfer", async () => {
    const net = new MemoryNetwork();
    const b = new Recorder();
    const ta = net.connect(1, new Recorder());
    net.connect(2, b);
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
    net.breakNextSnapshotAfter(35);
    await expect(ta.sendSnapshot(2, outgoing(bytes, 16))).rejects.toThrow(/broken off at byte 35/);
    expect(b.partial.length).toBe(35);
    await ta.sendSnapshot(2, outgoing(bytes, 16));
    expect(b.snapshots).toHaveLength(1);
    expect([...(b.snapshots[0] ?? [])]).toEqual([...bytes]);
    expect(b.headers.map((h) => [h.from, h.term, h.metadata.index, h.totalBytes])).toEqual([
      [1, 3, 9, 100],
      [1, 3, 9, 100],
    ]);
    expect(net.stats.snapshotsSent).toBe(1);
    expect(net.stats.snapshotsFailed).toBe(1);
  });

  it("a snapshot to an unreachable node fails at once", async () => {
    const net = new MemoryNetwork();
    const ta = net.connect(1, new Recorder());
    await expect(ta.sendSnapshot(3, outgoing(new Uint8Array(4), 2))).rejects.toThrow(
      /cannot be reached/,
    );
  });

  it("a closed transport sends nothing and a reconnect replaces the endpoint", async () => {
    const net = new MemoryNetwork();
    const first = new Recorder();
    const second = new Recorder();
    const ta = net.connect(1, new Recorder());
    const old = net.connect(2, first);
    await old.close();
    old.send([app(2, 1, 0)]);
    net.connect(2, second);
    ta.send([app(1, 2, 4)]);
    await waitFor(() => second.got.length === 1, "delivery to the new endpoint");
    expect(first.got).toEqual([]);
  });
});
