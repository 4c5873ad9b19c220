import { EMPTY_BYTES, EntryType, type Message, MessageType, message } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { EventQueue } from "./event-queue.js";
import { copyMessage, Network, type NetworkFaults, QUIET_NETWORK } from "./network.js";
import { SimRng } from "./rng.js";

interface Delivery {
  readonly from: number;
  readonly to: number;
  readonly payload: { n: number };
}

function harness(faults: Partial<NetworkFaults> = {}, seed = 7) {
  const queue = new EventQueue();
  const got: Delivery[] = [];
  const net = new Network<{ n: number }>(
    queue,
    new SimRng(seed),
    { ...QUIET_NETWORK, ...faults },
    (from, to, payload) => got.push({ from, to, payload }),
    (p) => ({ ...p }),
  );
  const drain = () => {
    while (queue.runNext()) {
      // deliver everything in flight
    }
  };
  return { queue, net, got, drain };
}

describe("network", () => {
  it("a one-way cut drops one direction only", () => {
    const { net, got, drain } = harness();
    net.cutOneWay(1, 2);
    for (let n = 0; n < 50; n++) {
      net.send(1, 2, { n });
      net.send(2, 1, { n });
    }
    drain();
    expect(got.filter((d) => d.from === 1 && d.to === 2)).toHaveLength(0);
    expect(got.filter((d) => d.from === 2 && d.to === 1)).toHaveLength(50);
  });

  it("a partition cuts both directions; overlapping partitions lift one at a time", () => {
    const { net, got, drain } = harness();
    const a = net.partition([1], [2, 3]);
    const b = net.isolate(2, [1, 3]);
    net.send(1, 2, { n: 1 });
    net.send(2, 1, { n: 2 });
    net.send(3, 1, { n: 3 });
    drain();
    expect(got).toHaveLength(0);
    net.restore(a);
    net.send(1, 2, { n: 4 }); // still cut by b
    net.send(3, 1, { n: 5 }); // open again
    drain();
    expect(got.map((d) => d.payload.n)).toEqual([5]);
    net.restore(b);
    net.send(1, 2, { n: 6 });
    drain();
    expect(got.map((d) => d.payload.n)).toEqual([5, 6]);
  });

  it("a partition that starts while a message is in flight loses it, and heal() lifts all", () => {
    const { queue, net, got, drain } = harness({ minDelayUs: 1000, maxDelayUs: 2000 });
    net.send(1, 2, { n: 1 });
    queue.after(10, () => net.isolate(2, [1]));
    drain();
    expect(got).toHaveLength(0);
    net.heal();
    net.send(1, 2, { n: 2 });
    drain();
    expect(got.map((d) => d.payload.n)).toEqual([2]);
  });

  it("reports a cut link to the sender but not a lost packet", () => {
    const { net } = harness({ dropRate: 1 });
    expect(net.send(1, 2, { n: 1 })).toBe(true);
    net.cutOneWay(1, 2);
    expect(net.send(1, 2, { n: 2 })).toBe(false);
  });

  it("drops, duplicates and reorders at about the configured rates", () => {
    const { net, got, drain } = harness({ dropRate: 0.2, dupRate: 0.1, maxDelayUs: 10_000 });
    const sent = 2000;
    for (let n = 0; n < sent; n++) net.send(1, 2, { n });
    drain();
    expect(net.stats.dropped).toBeGreaterThan(sent * 0.15);
    expect(net.stats.dropped).toBeLessThan(sent * 0.25);
    expect(net.stats.duplicated).toBeGreaterThan(sent * 0.8 * 0.05);
    const ns = got.map((d) => d.payload.n);
    expect(new Set(ns).size).toBeLessThan(ns.length); // some arrived twice
    const inversions = ns.filter((n, i) => i > 0 && n < (ns[i - 1] as number)).length;
    expect(inversions).toBeGreaterThan(0); // some overtook others on the same link
  });

  it("every delivery gets its own copy", () => {
    const { net, got, drain } = harness({ dupRate: 1 });
    const original = { n: 1 };
    net.send(1, 2, original);
    drain();
    expect(got).toHaveLength(2);
    const [a, b] = got as [Delivery, Delivery];
    a.payload.n = 99;
    expect(b.payload.n).toBe(1);
    expect(original.n).toBe(1);
  });

  it("copyMessage shares no bytes with the original", () => {
    const m: Message = message({
      type: MessageType.App,
      from: 1,
      to: 2,
      entries: [{ term: 1, index: 1, type: EntryType.Normal, data: Uint8Array.of(1, 2, 3) }],
      context: Uint8Array.of(9),
      snapshot: {
        metadata: {
          index: 5,
          term: 1,
          confState: {
            voters: [1, 2],
            learners: [],
            votersOutgoing: [],
            learnersNext: [],
            autoLeave: false,
          },
        },
        data: Uint8Array.of(7),
      },
    });
    const c = copyMessage(m);
    expect(c).toEqual(m);
    const snap = c.snapshot;
    if (!snap) throw new Error("the copy lost its snapshot");
    (c.entries[0]?.data as Uint8Array)[0] = 42;
    (c.context as Uint8Array)[0] = 42;
    (snap.data as Uint8Array)[0] = 42;
    (snap.metadata.confState.voters as number[]).push(3);
    expect(m.entries[0]?.data[0]).toBe(1);
    expect(m.context[0]).toBe(9);
    expect(m.snapshot?.data[0]).toBe(7);
    expect(m.snapshot?.metadata.confState.voters).toEqual([1, 2]);
    expect(copyMessage(message({ type: MessageType.Heartbeat })).context).not.toBe(EMPTY_BYTES);
  });
});
