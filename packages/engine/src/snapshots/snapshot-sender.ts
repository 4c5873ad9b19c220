// Streams a stored snapshot to a follower when the core asks for it with a Snap message (which
// carries only the metadata: RaftStorage.snapshot() leaves the data out on purpose). The bytes
// are the snapshot store's own encoding, so the receiver checks the checksums our disk held.
// The outcome goes back to the core with reportSnapshot(to, ok).
import type { Message, RawNode, SnapshotMetadata } from "@d-engine/core";
import { crc32c, type RaftStores } from "@d-engine/storage";
import type { PeerTransport } from "@d-engine/transport";
import type { EngineLogger } from "../logger.js";
import type { NodeLoop } from "../loop/node-loop.js";

export class SnapshotSender {
  private readonly sending = new Set<number>();
  /** CRC32C of each stored snapshot's whole encoding, computed once per snapshot. */
  private readonly crcs = new Map<number, Promise<number>>();

  constructor(
    private readonly stores: RaftStores,
    private readonly transport: () => PeerTransport,
    private readonly raw: RawNode,
    private readonly loop: NodeLoop,
    private readonly logger: EngineLogger,
  ) {}

  /** Handles a Snap message from a Ready. */
  send(m: Message): void {
    const meta = m.snapshot?.metadata;
    if (!meta || this.sending.has(m.to)) return;
    const to = m.to;
    this.sending.add(to);
    void this.stream(to, m.term, meta).then((ok) => {
      this.sending.delete(to);
      if (this.loop.isStopped) return;
      this.raw.reportSnapshot(to, ok);
      this.loop.schedule();
    });
  }

  private async stream(to: number, term: number, meta: SnapshotMetadata): Promise<boolean> {
    const started = Date.now();
    try {
      const info = this.stores.snapshots.list().find((i) => i.metadata.index === meta.index);
      if (!info) throw new Error(`snapshot ${meta.index} is no longer stored`);
      const crc = await this.crcOf(meta.index);
      await this.transport().sendSnapshot(to, {
        term,
        metadata: meta,
        totalBytes: info.encodedBytes,
        crc32c: crc,
        chunks: (offset) => this.chunksFrom(meta.index, offset),
      });
      this.logger.info(`sent snapshot ${meta.index} to node ${to}`, {
        bytes: info.encodedBytes,
        ms: Date.now() - started,
      });
      return true;
    } catch (e) {
      this.logger.warn(
        `sending snapshot ${meta.index} to node ${to} failed: ${(e as Error).message}`,
      );
      return false;
    }
  }

  private async *chunksFrom(index: number, offset: number): AsyncIterable<Uint8Array> {
    let pos = 0;
    for await (const c of this.stores.snapshots.chunks(index)) {
      const end = pos + c.length;
      if (end > offset) yield pos >= offset ? c : c.subarray(offset - pos);
      pos = end;
    }
  }

  private crcOf(index: number): Promise<number> {
    for (const k of this.crcs.keys()) {
      if (!this.stores.snapshots.list().some((i) => i.metadata.index === k)) this.crcs.delete(k);
    }
    let p = this.crcs.get(index);
    if (!p) {
      p = (async () => {
        let crc = 0;
        for await (const c of this.stores.snapshots.chunks(index)) crc = crc32c(c, crc);
        return crc;
      })();
      p.catch(() => this.crcs.delete(index));
      this.crcs.set(index, p);
    }
    return p;
  }
}
