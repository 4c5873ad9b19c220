// Two (or three) nodes on 127.0.0.1, each a startNodeServer plus a Connect peer transport:
// batches arrive in order and in one frame per turn, a node of another cluster is refused,
// snapshots of a few MB transfer and verify, and a transfer cut midway resumes from the
// receiver's offset.
import * as net from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  EntryType,
  type Message,
  MessageType,
  message,
  type NodeId,
  seededRng,
} from "@d-engine/core";
import { RaftPeerService } from "@d-engine/proto/peer";
import { crc32c } from "@node-rs/crc32";
import { afterEach, describe, expect, it } from "vitest";
import { type NodeServer, startNodeServer } from "../server/node-server.js";
import { FakeApi } from "../testing/fake-api.js";
import { waitFor } from "../testing/wait.js";
import { createConnectPeerTransport } from "./connect-transport.js";
import type {
  IncomingSnapshotHeader,
  OutgoingSnapshot,
  PeerHandler,
  PeerTransport,
  SnapshotReceiver,
} from "./types.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** Records batches as they arrive; receives snapshots the way an engine would (keeps partials). */
class Recorder implements PeerHandler {
  readonly batches: { from: NodeId; messages: Message[] }[] = [];
  readonly addresses = new Map<NodeId, string>();
  readonly installed: Uint8Array[] = [];
  readonly resumedAt: number[] = [];
  partial: Uint8Array[] = [];
  held = 0;
  /** Called after each write with the bytes held. */
  onWrite: ((held: number) => void) | undefined;
  private generation = 0;

  get messages(): Message[] {
    return this.batches.flatMap((b) => b.messages);
  }

  onMessages(from: NodeId, messages: readonly Message[]): void {
    this.batches.push({ from, messages: [...messages] });
  }

  onPeerAddress(id: NodeId, address: string): void {
    this.addresses.set(id, address);
  }

  async receiveSnapshot(header: IncomingSnapshotHeader): Promise<SnapshotReceiver> {
    // A newer transfer of the same snapshot supersedes an older one that may still be unwinding.
    const gen = ++this.generation;
    this.resumedAt.push(this.held);
    const self = this;
    return {
      resumeOffset: this.held,
      async write(offset, data) {
        if (gen !== self.generation) throw new Error("superseded");
        expect(offset).toBe(self.held);
        self.partial.push(data.slice());
        self.held += data.length;
        self.onWrite?.(self.held);
      },
      async finish() {
        const all = Buffer.concat(self.partial);
        if (all.length !== header.totalBytes || crc32c(all) !== header.crc32c) {
          self.partial = [];
          self.held = 0;
          throw new Error("the snapshot's CRC32C does not match");
        }
        self.installed.push(all);
        self.partial = [];
        self.held = 0;
      },
      async abort() {},
    };
  }
}

interface TestNode {
  id: NodeId;
  recorder: Recorder;
  server: NodeServer;
  transport: PeerTransport;
  unreachable: NodeId[];
  warnings: string[];
}

async function node(
  id: NodeId,
  peers: Map<NodeId, string>,
  clusterId = "c1",
  port = 0,
): Promise<TestNode> {
  const recorder = new Recorder();
  const warnings: string[] = [];
  const logger = { warn: (_f: unknown, m: string) => warnings.push(m) };
  const server = await startNodeServer({
    host: "127.0.0.1",
    port,
    identity: { clusterId, nodeId: id, address: `127.0.0.1:${port}` },
    peerHandler: recorder,
    api: new FakeApi(id),
    logger,
    shutdownGraceMs: 100,
  });
  const unreachable: NodeId[] = [];
  const transport = createConnectPeerTransport({
    identity: { clusterId, nodeId: id, address: server.address },
    onUnreachable: (p) => unreachable.push(p),
    peers,
    logger,
    reconnect: { initialMs: 10, maxMs: 50 },
  });
  const n = { id, recorder, server, transport, unreachable, warnings };
  cleanups.push(async () => {
    await transport.close();
    await server.close();
  });
  return n;
}

function app(from: NodeId, to: NodeId, index: number): Message {
  return message({
    type: MessageType.App,
    from,
    to,
    term: 2,
    logTerm: 2,
    index,
    commit: index,
    entries: [
      {
        term: 2,
        index: index + 1,
        type: EntryType.Normal,
        data: new Uint8Array([index & 0xff, 7]),
      },
    ],
  });
}

describe("the Connect peer transport", () => {
  it("delivers batches in order, one frame per turn, both ways", async () => {
    const a = await node(1, new Map());
    const b = await node(2, new Map([[1, a.server.address]]));
    a.transport.setPeerAddress(2, b.server.address);

    // Open both streams.
    a.transport.send([app(1, 2, 0)]);
    b.transport.send([
      message({
        type: MessageType.AppResp,
        from: 2,
        to: 1,
        term: 2,
        index: 0,
        reject: true,
        rejectHint: 5,
      }),
    ]);
    await waitFor(
      () => b.recorder.messages.length === 1 && a.recorder.messages.length === 1,
      "the first messages",
    );
    expect(a.recorder.messages[0]).toMatchObject({
      type: MessageType.AppResp,
      reject: true,
      rejectHint: 5,
    });
    expect(b.recorder.addresses.get(1)).toBe(a.server.address);

    // 50 sends in one turn: one frame, one delivery, in order.
    const before = b.recorder.batches.length;
    for (let i = 1; i <= 50; i++) a.transport.send([app(1, 2, i)]);
    await waitFor(() => b.recorder.messages.length === 51, "the burst");
    expect(b.recorder.batches.length - before).toBe(1);

    // Many turns of sends: everything arrives, in order.
    for (let turn = 0; turn < 20; turn++) {
      a.transport.send(Array.from({ length: 10 }, (_, i) => app(1, 2, 51 + turn * 10 + i)));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => b.recorder.messages.length === 251, "all messages");
    expect(b.recorder.messages.map((m) => m.index)).toEqual(
      Array.from({ length: 251 }, (_, i) => i),
    );
    const m7 = b.recorder.messages[7] as Message;
    expect(m7).toEqual(app(1, 2, 7));
    expect(a.unreachable).toEqual([]);
  });

  it("refuses a peer from another cluster or with the wrong id, and keeps serving", async () => {
    const b = await node(2, new Map());
    const other = await node(1, new Map([[2, b.server.address]]), "c2");
    other.transport.send([app(1, 2, 0)]);
    await waitFor(() => other.unreachable.includes(2), "the refusal to reach the sender");
    expect(b.recorder.batches).toEqual([]);
    const refusal = b.warnings.find((w) => w.includes("refused"));
    expect(refusal).toContain('"c2"');
    expect(refusal).toContain('"c1"');
    expect(other.warnings.some((w) => w.includes("c2") && w.includes("c1"))).toBe(true);

    // A direct call sees FailedPrecondition naming both cluster ids.
    const raw = createClient(
      RaftPeerService,
      createGrpcTransport({ baseUrl: `http://${b.server.address}` }),
    );
    const call = async (hello: { clusterId: string; from: bigint; to: bigint }) => {
      try {
        for await (const _ of raw.replicate(
          iterate([{ hello: { ...hello, fromAddress: "127.0.0.1:1" }, messages: [] }]),
        )) {
          // The hello is refused before any answer.
        }
        return undefined;
      } catch (e) {
        return ConnectError.from(e);
      }
    };
    const wrongCluster = await call({ clusterId: "c2", from: 1n, to: 2n });
    expect(wrongCluster?.code).toBe(Code.FailedPrecondition);
    expect(wrongCluster?.rawMessage).toMatch(/cluster "c2", this node is in cluster "c1"/);
    const wrongId = await call({ clusterId: "c1", from: 1n, to: 3n });
    expect(wrongId?.code).toBe(Code.FailedPrecondition);
    expect(wrongId?.rawMessage).toContain("expected node 3, this is node 2");

    // The right cluster still gets through.
    const a = await node(1, new Map([[2, b.server.address]]));
    a.transport.send([app(1, 2, 9)]);
    await waitFor(() => b.recorder.messages.length === 1, "a good peer's message");
  });

  it("drops a stream whose message cannot be encoded, reports the peer, and goes on", async () => {
    const b = await node(2, new Map());
    const a = await node(1, new Map([[2, b.server.address]]));
    a.transport.send([app(1, 2, 0)]);
    await waitFor(() => b.recorder.messages.length === 1, "the first message");
    // A term past 2^53 cannot be written as a safe uint64: encoding throws inside the flush.
    a.transport.send([message({ type: MessageType.App, from: 1, to: 2, term: 2 ** 53 })]);
    await waitFor(() => a.unreachable.includes(2), "the peer to be reported");
    expect(a.warnings.some((w) => w.includes("encoding a frame failed"))).toBe(true);
    // Raft sends again: after the backoff the link reopens and delivers.
    let i = 10;
    await waitFor(() => {
      a.transport.send([app(1, 2, i++)]);
      return b.recorder.messages.length > 1;
    }, "a message after the failure");
    expect(b.recorder.messages.every((m) => m.term === 2)).toBe(true);
  });

  it("reports unreachable peers, drops their messages, and reconnects when they return", async () => {
    const b = await node(2, new Map());
    const port = b.server.port;
    const a = await node(1, new Map([[2, b.server.address]]));
    a.transport.send([app(1, 2, 0)]);
    await waitFor(() => b.recorder.messages.length === 1, "the first message");
    await b.transport.close();
    await b.server.close();
    a.transport.send([app(1, 2, 1)]);
    await waitFor(() => a.unreachable.includes(2), "the peer to be reported unreachable");
    // Unknown peers are reported at once.
    a.transport.send([app(1, 9, 0)]);
    expect(a.unreachable).toContain(9);

    const b2 = await node(2, new Map(), "c1", port);
    let i = 100;
    // Raft keeps sending (heartbeats); the transport reconnects after its backoff.
    await waitFor(() => {
      a.transport.send([app(1, 2, i++)]);
      return b2.recorder.messages.length > 0;
    }, "messages to flow again after the restart");
    expect(b2.recorder.messages[0]?.index).toBeGreaterThanOrEqual(100);
  });

  it("transfers a snapshot of a few MB in checksummed chunks", async () => {
    const a = await node(1, new Map());
    const b = await node(2, new Map());
    a.transport.setPeerAddress(2, b.server.address);
    const { snap, data, offsets } = snapshotOf(5 * 1024 * 1024 + 123, 42);
    await a.transport.sendSnapshot(2, snap);
    expect(b.recorder.installed.length).toBe(1);
    expect(Buffer.compare(b.recorder.installed[0] as Uint8Array, data)).toBe(0);
    expect(offsets).toEqual([0]);
  });

  it("resumes a transfer cut midway from the receiver's offset", async () => {
    const a = await node(1, new Map());
    const b = await node(2, new Map());
    const proxy = await tcpProxy(b.server.port);
    cleanups.push(() => proxy.close());
    a.transport.setPeerAddress(2, `127.0.0.1:${proxy.port}`);
    const total = 6 * 1024 * 1024;
    let cut = false;
    b.recorder.onWrite = (held) => {
      if (!cut && held >= 2 * 1024 * 1024) {
        cut = true;
        proxy.cutAll();
      }
    };
    const { snap, data, offsets } = snapshotOf(total, 7);
    await a.transport.sendSnapshot(2, snap);
    expect(cut).toBe(true);
    expect(b.recorder.installed.length).toBe(1);
    expect(Buffer.compare(b.recorder.installed[0] as Uint8Array, data)).toBe(0);
    // The second attempt started where the receiver was, not at 0.
    expect(offsets.length).toBe(2);
    expect(offsets[1]).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(offsets[1]).toBe(b.recorder.resumedAt[1]);
  });

  it("refuses a chunk whose CRC32C does not match, writing nothing of it", async () => {
    const b = await node(2, new Map());
    const raw = createClient(
      RaftPeerService,
      createGrpcTransport({ baseUrl: `http://${b.server.address}` }),
    );
    const data = new Uint8Array([1, 2, 3, 4]);
    const frames = [
      {
        header: {
          hello: { clusterId: "c1", from: 1n, to: 2n, fromAddress: "127.0.0.1:1" },
          term: 2n,
          metadata: { index: 10n, term: 2n, confState: { voters: [1n, 2n] } },
          totalBytes: 4n,
          crc32c: crc32c(data),
        },
      },
      { offset: 0n, data, crc32c: crc32c(data) ^ 1 },
    ];
    const err = await (async () => {
      try {
        for await (const _ of raw.installSnapshot(iterate(frames))) {
          // The resume offset, then the error.
        }
      } catch (e) {
        return ConnectError.from(e);
      }
    })();
    expect(err?.code).toBe(Code.DataLoss);
    expect(err?.rawMessage).toContain("CRC32C");
    expect(b.recorder.held).toBe(0);
  });
});

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** A deterministic pseudo-random snapshot; records the offsets chunks() was asked for. */
function snapshotOf(size: number, seed: number) {
  const rng = seededRng(seed);
  const words = Buffer.alloc(Math.ceil(size / 4) * 4);
  for (let i = 0; i < words.length; i += 4) words.writeUInt32LE(rng.nextInt(2 ** 32), i);
  const data = words.subarray(0, size);
  const offsets: number[] = [];
  const snap: OutgoingSnapshot = {
    term: 3,
    metadata: {
      index: 100,
      term: 3,
      confState: {
        voters: [1, 2],
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      },
    },
    totalBytes: size,
    crc32c: crc32c(data),
    async *chunks(offset: number) {
      offsets.push(offset);
      // Uneven pieces, as a file read might give them.
      for (let i = offset; i < size; i += 700_001)
        yield data.subarray(i, Math.min(i + 700_001, size));
    },
  };
  return { snap, data, offsets };
}

/** A TCP proxy to `port` whose connections can all be cut at once. */
async function tcpProxy(port: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cutAll(): void {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close(): Promise<void> {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
