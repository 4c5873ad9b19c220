// Receives a snapshot a leader streams to us (PeerHandler.receiveSnapshot). The bytes go into the
// snapshot store's writer as they arrive; a transfer that breaks off keeps what it wrote, and a
// retry of the same snapshot resumes from there. When all bytes are in, they are verified (total
// CRC here, the store's own checksums in finish()), stored, and the Snap message (metadata only)
// is stepped into the core, which then hands the snapshot out in a Ready for install.
//
// The store and the core must agree: a snapshot stored but refused by the core would be picked
// up as the newest snapshot on restart. So the final checks and the step happen with the core
// frozen (no Ready in flight, ticks and messages held back): what was checked still holds.
import { UnavailableError } from "@d-engine/client";
import { type ConfState, EMPTY_BYTES, MessageType, message, type RawNode } from "@d-engine/core";
import { crc32c, type RaftStores, type SnapshotWriter } from "@d-engine/storage";
import type { IncomingSnapshotHeader, SnapshotReceiver } from "@d-engine/transport";
import type { EngineLogger } from "../logger.js";
import type { NodeLoop } from "../loop/node-loop.js";

interface Partial {
  readonly key: string;
  readonly header: IncomingSnapshotHeader;
  readonly writer: SnapshotWriter;
  written: number;
  crc: number;
}

export class SnapshotRefusedError extends Error {
  override name = "SnapshotRefusedError";
}

export class SnapshotInbox {
  private partial: Partial | undefined;

  constructor(
    private readonly selfId: number,
    private readonly stores: RaftStores,
    private readonly raw: RawNode,
    private readonly loop: NodeLoop,
    private readonly logger: EngineLogger,
  ) {}

  async receive(header: IncomingSnapshotHeader): Promise<SnapshotReceiver> {
    this.check(header);
    const m = header.metadata;
    const key = `${header.from}/${header.term}/${m.index}/${m.term}/${header.totalBytes}/${header.crc32c}`;
    if (this.partial && this.partial.key !== key) await this.dropPartial("a different snapshot");
    if (!this.partial) {
      this.partial = { key, header, writer: this.stores.snapshots.writer(), written: 0, crc: 0 };
    } else {
      this.logger.info(`resuming snapshot ${m.index} from node ${header.from}`, {
        offset: this.partial.written,
      });
    }
    const p = this.partial;
    return {
      resumeOffset: p.written,
      write: async (offset, data) => {
        if (this.partial !== p) throw new SnapshotRefusedError("transfer superseded");
        if (offset !== p.written) {
          throw new SnapshotRefusedError(`expected bytes at offset ${p.written}, got ${offset}`);
        }
        if (p.written + data.length > header.totalBytes) {
          throw new SnapshotRefusedError(`more than the announced ${header.totalBytes} bytes`);
        }
        await p.writer.write(data);
        p.written += data.length;
        p.crc = crc32c(data, p.crc);
      },
      finish: async () => {
        if (this.partial !== p) throw new SnapshotRefusedError("transfer superseded");
        this.partial = undefined;
        if (p.written !== header.totalBytes || p.crc !== header.crc32c) {
          await p.writer.abort();
          throw new SnapshotRefusedError(
            `snapshot ${m.index} from node ${header.from}: got ${p.written} of ${header.totalBytes} bytes, crc32c ${p.crc} (announced ${header.crc32c})`,
          );
        }
        await this.install(p);
      },
      abort: async (reason) => {
        // Kept for a resume; a different snapshot or stop() drops it.
        this.logger.debug(
          `snapshot ${m.index} from node ${header.from} broke off at ${p.written} bytes: ${String(reason)}`,
        );
      },
    };
  }

  /** Drops a partial transfer (stop). */
  async close(): Promise<void> {
    await this.dropPartial("stopping");
  }

  private async dropPartial(why: string): Promise<void> {
    const p = this.partial;
    this.partial = undefined;
    if (!p) return;
    this.logger.debug(`dropping partial snapshot ${p.header.metadata.index}: ${why}`);
    await p.writer.abort().catch(() => undefined);
  }

  /** Refuses snapshots the core would not install. */
  private check(h: IncomingSnapshotHeader): void {
    if (this.loop.isStopped) throw new UnavailableError("the node is stopping");
    const r = this.raw.raft;
    if (h.term < r.term) {
      throw new SnapshotRefusedError(`stale snapshot: term ${h.term} < our term ${r.term}`);
    }
    if (h.metadata.index <= r.log.committed) {
      throw new SnapshotRefusedError(
        `not needed: snapshot index ${h.metadata.index} <= our commit ${r.log.committed}`,
      );
    }
    if (!includes(h.metadata.confState, this.selfId)) {
      throw new SnapshotRefusedError(
        `snapshot ${h.metadata.index} does not include this node (${this.selfId}) in its configuration`,
      );
    }
  }

  private install(p: Partial): Promise<void> {
    const h = p.header;
    return this.loop.exclusive(
      async () => {
        try {
          this.check(h);
        } catch (e) {
          await p.writer.abort();
          throw e;
        }
        const info = await p.writer.finish();
        if (info.metadata.index !== h.metadata.index || info.metadata.term !== h.metadata.term) {
          throw new SnapshotRefusedError(
            `the stream held snapshot ${info.metadata.index}/${info.metadata.term}, the header announced ${h.metadata.index}/${h.metadata.term}`,
          );
        }
        this.raw.step(
          message({
            type: MessageType.Snap,
            from: h.from,
            to: this.selfId,
            term: h.term,
            snapshot: { metadata: info.metadata, data: EMPTY_BYTES },
          }),
        );
        this.logger.info(`received snapshot ${h.metadata.index} from node ${h.from}`, {
          bytes: h.totalBytes,
        });
      },
      { freeze: true },
    );
  }
}

function includes(cs: ConfState, id: number): boolean {
  return [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].some((ids) =>
    ids.includes(id),
  );
}
