// One Raft message's round trip through the peer transport, between two processes on 127.0.0.1:
// node 1 sends an append, node 2 answers it at once, node 1 sends the next on the answer. The
// reference in the same run is the floor under it: a bare node:http2 stream echoing 300 bytes.
// Prints a table and ends with `peer round trip p50 ms: <figure>`.
//
//   node packages/transport/dist/bench/peer-rtt.js [round trips, default 3000]
import { fork } from "node:child_process";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { DEngineClient } from "@d-engine/client";
import { type Message, MessageType, message } from "@d-engine/core";
import { createConnectPeerTransport } from "../peer/connect-transport.js";
import type { PeerHandler, PeerTransport } from "../peer/types.js";
import { startNodeServer } from "../server/node-server.js";

const ENTRY = { term: 2, index: 1, type: 0, data: new Uint8Array(300) };

interface Ready {
  readonly peerAddress: string;
  readonly rawPort: number;
}

function handler(
  onMessages: (from: number, ms: readonly Message[]) => void,
  onPeerAddress: (id: number, address: string) => void,
): PeerHandler {
  return {
    onMessages,
    onPeerAddress,
    receiveSnapshot() {
      throw new Error("no snapshots in this benchmark");
    },
  };
}

async function node(
  id: number,
  peers: Map<number, string>,
  onMessages: (transport: PeerTransport, ms: readonly Message[]) => void,
) {
  let transport: PeerTransport | undefined;
  const server = await startNodeServer({
    host: "127.0.0.1",
    port: 0,
    identity: { clusterId: "rtt", nodeId: id, address: "127.0.0.1:0" },
    peerHandler: handler(
      (_from, ms) => onMessages(transport as PeerTransport, ms),
      // As the engine does: the hello tells where to answer.
      (peer, address) => transport?.setPeerAddress(peer, address),
    ),
    // Peer traffic only: no client call reaches this server.
    api: {} as DEngineClient,
    logger: { warn() {} },
    shutdownGraceMs: 10,
  });
  transport = createConnectPeerTransport({
    identity: { clusterId: "rtt", nodeId: id, address: server.address },
    peers,
  });
  return { server, transport };
}

/** The child: answers every append, and echoes on a bare HTTP/2 server. */
async function echo(): Promise<void> {
  const { server } = await node(2, new Map(), (transport, ms) => {
    for (const m of ms) {
      if (m.type !== MessageType.App) continue;
      transport.send([
        message({ type: MessageType.AppResp, from: 2, to: 1, term: 2, index: m.index }),
      ]);
    }
  });
  const raw = http2.createServer();
  raw.on("stream", (stream) => {
    stream.respond({ ":status": 200 });
    stream.on("data", () => stream.write(Buffer.alloc(40)));
  });
  await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
  const ready: Ready = {
    peerAddress: server.address,
    rawPort: (raw.address() as AddressInfo).port,
  };
  process.send?.(ready);
  process.on("disconnect", () => process.exit(0));
}

function summary(name: string, ms: number[], reference?: number) {
  const sorted = [...ms].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    name,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    perSec: (ms.length * 1000) / total,
    vs: reference === undefined ? "" : `${(q(0.5) / reference).toFixed(2)}x`,
  };
}

async function main(rounds: number): Promise<void> {
  const child = fork(new URL(import.meta.url), ["echo"], { stdio: "inherit" });
  const ready = await new Promise<Ready>((r) => child.once("message", (m) => r(m as Ready)));

  // Through the transport.
  const transportMs: number[] = [];
  await new Promise<void>((resolve) => {
    let sentAt = 0;
    let index = 0;
    const send = (t: PeerTransport) => {
      sentAt = performance.now();
      const entries = [{ ...ENTRY, index: index + 1 }];
      t.send([message({ type: MessageType.App, from: 1, to: 2, term: 2, index, entries })]);
    };
    void node(1, new Map([[2, ready.peerAddress]]), (t, ms) => {
      for (const m of ms) {
        if (m.type !== MessageType.AppResp || m.index !== index) continue;
        // The first round trip opens the stream: not counted.
        if (index > 0) transportMs.push(performance.now() - sentAt);
        if (++index > rounds) return resolve();
        send(t);
      }
    }).then(({ transport }) => send(transport));
  });

  // The floor: a bare HTTP/2 stream.
  const rawMs: number[] = [];
  const session = http2.connect(`http://127.0.0.1:${ready.rawPort}`);
  const stream = session.request({ ":method": "POST", ":path": "/echo" }, { endStream: false });
  await new Promise<void>((resolve) => {
    let sentAt = performance.now();
    let n = 0;
    stream.on("data", () => {
      if (n > 0) rawMs.push(performance.now() - sentAt);
      if (++n > rounds) return resolve();
      sentAt = performance.now();
      stream.write(Buffer.alloc(320));
    });
    stream.write(Buffer.alloc(320));
  });
  session.destroy();

  const floor = summary("bare node:http2 stream (reference)", rawMs);
  const rows = [summary("peer transport (Replicate)", transportMs, floor.p50), floor];
  console.log(`${rounds} round trips each, one at a time, 127.0.0.1, two processes\n`);
  console.log("| path | p50 ms | p90 ms | p99 ms | round trips/s | p50 vs reference |");
  console.log("|:--|--:|--:|--:|--:|--:|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.p50.toFixed(3)} | ${r.p90.toFixed(3)} | ${r.p99.toFixed(3)} | ${Math.round(r.perSec)} | ${r.vs} |`,
    );
  }
  console.log(`\npeer round trip p50 ms: ${rows[0]?.p50.toFixed(3)}`);
  child.disconnect();
  process.exit(0);
}

if (process.argv[2] === "echo") await echo();
else await main(Number(process.argv[2] ?? 3000));
