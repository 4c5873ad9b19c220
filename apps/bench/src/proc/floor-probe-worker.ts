// One process of the replication floor probe (floor-probe.ts).
//
//   follower <file> <bytes>: listens on 127.0.0.1 (its port goes to the parent over IPC); for
//     every `bytes` received, appends them to <file> with O_DSYNC, in place, and answers one byte.
//   leader <file> <writes> <bytes> <port> <port>: connects to both followers, then `writes` times
//     one after another: sends a record to both and appends it to its own <file> on the thread
//     pool; a write is done when its own append is durable and one follower has answered it.
//     Sends the writes' latencies to the parent.
//
// The same division as d-engine's nodes (a leader appends on the thread pool while its appends are
// on the wire; followers append in place), with nothing else: no Raft, no HTTP/2, no state machine.
//
// Every <file> is first filled with zeros (PREALLOCATED_BYTES, fsynced), and the appends overwrite
// them, as d-engine's file log writes into space it extended ahead of its records: the same disk
// writes (a growing append would also commit the file's new size, which d-engine no longer does).
import { closeSync, constants, fdatasyncSync, fsyncSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface FloorReport {
  readonly latenciesMs: number[];
}

const O_DSYNC: number = constants.O_DSYNC ?? 0;
/** Zeros written ahead of the records: room for the probe's writes (2,500 of 300 bytes) and more. */
const PREALLOCATED_BYTES = 4 * 1024 * 1024;

/** Flags to write over the zeros, each write durable when it returns. */
const OVERWRITE_FLAGS = constants.O_WRONLY | O_DSYNC;

/** Creates `file` full of zeros, durably, before anything is timed. */
function preallocate(file: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  const zeros = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < PREALLOCATED_BYTES; at += zeros.length) {
    writeSync(fd, zeros, 0, zeros.length, at);
  }
  fsyncSync(fd);
  closeSync(fd);
}

function follower(file: string, bytes: number): void {
  preallocate(file);
  const fd = openSync(file, OVERWRITE_FLAGS);
  let offset = 0;
  // What is appended is a record of the size received (its bytes do not matter here).
  const record = Buffer.alloc(bytes, 0x5a);
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    let buffered = 0;
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.length;
      while (buffered >= bytes) {
        buffered -= bytes;
        writeSync(fd, record, 0, bytes, offset);
        offset += bytes;
        if (O_DSYNC === 0) fdatasyncSync(fd);
        socket.write("a");
      }
    });
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
  });
  process.on("disconnect", () => {
    closeSync(fd);
    process.exit(0);
  });
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.setNoDelay(true);
    s.once("error", reject);
  });
}

async function leader(file: string, writes: number, bytes: number, ports: number[]) {
  const followers = await Promise.all(ports.map(connectTo));
  preallocate(file);
  const log = await open(file, OVERWRITE_FLAGS);
  const record = Buffer.alloc(bytes, 0x5a);
  // Acknowledgements counted per follower: a slow follower's late answer is never taken for the
  // next write's.
  const acked = followers.map(() => 0);
  let check: (() => void) | undefined;
  followers.forEach((s, i) => {
    s.on("data", (d: Buffer) => {
      acked[i] = (acked[i] ?? 0) + d.length;
      check?.();
    });
  });
  const latenciesMs: number[] = [];
  let offset = 0;
  for (let w = 1; w <= writes; w++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      let ownDurable = false;
      check = () => {
        if (ownDurable && Math.max(...acked) >= w) {
          check = undefined;
          resolve();
        }
      };
      for (const s of followers) s.write(record);
      log.write(record, 0, bytes, offset).then(async () => {
        if (O_DSYNC === 0) await log.datasync();
        ownDurable = true;
        check?.();
      }, reject);
      offset += bytes;
    });
    latenciesMs.push(performance.now() - t0);
  }
  await log.close();
  for (const s of followers) s.destroy();
  process.send?.({ latenciesMs } satisfies FloorReport, () => process.exit(0));
}

function main(): void {
  const [role, file, ...rest] = process.argv.slice(2);
  if (role === "follower" && file && Number(rest[0]) > 0) {
    follower(file, Number(rest[0]));
    return;
  }
  const [writes, bytes, ...ports] = rest.map(Number);
  if (role === "leader" && file && writes && bytes && ports.length === 2) {
    leader(file, writes, bytes, ports).catch((e: unknown) => {
      console.error(`floor probe leader: ${String(e)}`);
      process.exit(1);
    });
    return;
  }
  console.error(
    "usage: floor-probe-worker follower <file> <bytes> | leader <file> <writes> <bytes> <port> <port>",
  );
  process.exit(2);
}

main();
