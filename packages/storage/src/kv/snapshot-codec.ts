// The KV snapshot stream, the same for every backend (so a snapshot moves between them):
//
//   magic (8 bytes: 89 'D' 'K' 'V' '\r' '\n' 1a '\n')
//   frames: u32le payload length | u32le CRC32C of the payload | payload (a KvSnapshotFrame)
//     header (KvStateMeta: format version, applied index, revisions, log time)
//     records* (KvSnapshotRecords: live versions, history, leases, sessions; ~1 MiB each)
//     footer (KvSnapshotFooter: how many of each record the reader must have seen)
//
// The format version lives in the header; readers refuse versions they do not know. The magic
// catches a wrong file, each frame's checksum catches corruption, and the footer catches
// truncation at a frame boundary. Errors name the source and the byte offset.

import { concatBytes } from "./bytes.js";
import {
  decodeControlFrame,
  decodeLease,
  decodeSessionRecord,
  encodeFooterFrame,
  encodeHeaderFrame,
  encodeLease,
  encodeSessionRecord,
  type SnapshotCounts,
} from "./codec.js";
import { crc32c } from "./crc32c.js";
import { KvError } from "./errors.js";
import { type CopyBytes, keyValueSize, readKeyValue, writeKeyValue } from "./record-codec.js";
import type { KvTablesView, LeaseRecord, SessionRecord, StateMeta } from "./tables.js";
import type { KeyValue } from "./types.js";
import { WireReader, WireWriter, WT_LEN } from "./wire.js";

export const SNAPSHOT_MAGIC = Uint8Array.of(0x89, 0x44, 0x4b, 0x56, 0x0d, 0x0a, 0x1a, 0x0a);
const FRAME_HEADER = 8;
/** Frames are ~1 MiB; anything claiming more than this is corrupt, not a frame. */
const MAX_FRAME = 256 * 1024 * 1024;

export interface DecodedSnapshot {
  readonly meta: StateMeta;
  readonly live: readonly KeyValue[];
  readonly history: readonly KeyValue[];
  readonly leases: readonly LeaseRecord[];
  readonly sessions: readonly SessionRecord[];
}

function frame(prefix: Uint8Array, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const len = prefix.length + body.length;
  const out = new Uint8Array(FRAME_HEADER + len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, len, true);
  dv.setUint32(4, crc32c(body, crc32c(prefix)), true);
  out.set(prefix, FRAME_HEADER);
  out.set(body, FRAME_HEADER + prefix.length);
  return out;
}

/** Frames a records batch: KvSnapshotFrame field 2 (records) around the batch's bytes. */
function recordsFrame(w: WireWriter): Uint8Array {
  const head = new WireWriter(8);
  head.tag(2, WT_LEN);
  head.varint(w.pos);
  return frame(head.finish(), w.buf.subarray(0, w.pos));
}

/** Encodes a snapshot of `view` as a sequence of chunks (one frame each, the magic first). */
export function* encodeSnapshot(view: KvTablesView, frameBytes = 1 << 20): Generator<Uint8Array> {
  yield concatBytes([SNAPSHOT_MAGIC, frame(encodeHeaderFrame(view.meta))]);
  const counts = { live: 0, history: 0, leases: 0, sessions: 0 };
  let w = new WireWriter(frameBytes + 4096);
  const t = view.tables;
  const full = () => w.pos >= frameBytes;
  const flush = (): Uint8Array => {
    const out = recordsFrame(w);
    w = new WireWriter(frameBytes + 4096);
    return out;
  };
  for (const [, kv] of t.kv.range(new Uint8Array(0), undefined)) {
    w.tag(1, WT_LEN);
    w.varint(keyValueSize(kv));
    writeKeyValue(w, kv);
    counts.live++;
    if (full()) yield flush();
  }
  for (const [, kv] of t.hist.range(new Uint8Array(0), undefined)) {
    w.tag(2, WT_LEN);
    w.varint(keyValueSize(kv));
    writeKeyValue(w, kv);
    counts.history++;
    if (full()) yield flush();
  }
  for (const [, lease] of t.leases.range(new Uint8Array(0), undefined)) {
    const b = encodeLease(lease);
    w.tag(3, WT_LEN);
    w.varint(b.length);
    w.raw(b);
    counts.leases++;
    if (full()) yield flush();
  }
  for (const [, session] of t.sessions.range(new Uint8Array(0), undefined)) {
    const b = encodeSessionRecord(session);
    w.tag(4, WT_LEN);
    w.varint(b.length);
    w.raw(b);
    counts.sessions++;
    if (full()) yield flush();
  }
  if (w.pos > 0) yield flush();
  yield frame(encodeFooterFrame(counts));
}

/** Reads a snapshot stream pushed in chunks of any size; finish() returns its content. */
export class SnapshotDecoder {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Stream offset of the first buffered byte. */
  private offset = 0;
  private sawMagic = false;
  private meta: StateMeta | undefined;
  private footer: SnapshotCounts | undefined;
  private readonly live: KeyValue[] = [];
  private readonly history: KeyValue[] = [];
  private readonly leases: LeaseRecord[] = [];
  private readonly sessions: SessionRecord[] = [];

  /**
   * `source` names the stream in errors (a file path, "snapshot from leader", ...). With `views`,
   * keys and values are views into the pushed chunks instead of copies (for a consumer that
   * copies them anyway, like LMDB).
   */
  constructor(
    readonly source: string,
    views = false,
  ) {
    this.copy = views
      ? (buf, s, e) => new Uint8Array(buf.buffer, buf.byteOffset + s, e - s)
      : undefined;
  }

  private fail(at: number, what: string): KvError {
    return new KvError("corrupt-snapshot", `${this.source}: ${what} at byte offset ${at}`);
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain();
  }

  /** Removes and returns the first n buffered bytes (n <= buffered). */
  private take(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const c = this.chunks[0] as Uint8Array;
        const k = Math.min(c.length, n - got);
        out.set(c.subarray(0, k), got);
        got += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    this.offset += n;
    return out;
  }

  /** The frame length at the front of the buffer (4 bytes, maybe across chunks), unconsumed. */
  private peekLength(): number {
    const b = new Uint8Array(4);
    let got = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, 4 - got);
      b.set(c.subarray(0, k), got);
      got += k;
      if (got === 4) break;
    }
    return new DataView(b.buffer).getUint32(0, true);
  }

  private drain(): void {
    if (!this.sawMagic) {
      if (this.buffered < SNAPSHOT_MAGIC.length) return;
      const magic = this.take(SNAPSHOT_MAGIC.length);
      if (!magic.every((b, i) => b === SNAPSHOT_MAGIC[i])) {
        throw this.fail(0, "not a KV snapshot (bad magic)");
      }
      this.sawMagic = true;
    }
    while (this.buffered >= FRAME_HEADER) {
      const at = this.offset;
      const len = this.peekLength();
      if (len > MAX_FRAME) throw this.fail(at, `frame length ${len} is implausible`);
      if (this.buffered < FRAME_HEADER + len) return;
      const head = this.take(FRAME_HEADER);
      const dv = new DataView(head.buffer, head.byteOffset, FRAME_HEADER);
      const crc = dv.getUint32(4, true);
      const payload = this.take(len);
      if (crc32c(payload) !== crc) throw this.fail(at, "checksum mismatch in the frame");
      this.frame(payload, at);
    }
  }

  private readonly copy: CopyBytes | undefined;

  private frame(payload: Uint8Array, at: number): void {
    if (this.footer !== undefined) throw this.fail(at, "data after the footer frame");
    if (payload[0] !== ((2 << 3) | WT_LEN)) {
      let control: ReturnType<typeof decodeControlFrame>;
      try {
        control = decodeControlFrame(payload, this.source);
      } catch (e) {
        if (e instanceof KvError) throw e;
        throw this.fail(at, `undecodable frame (${(e as Error).message})`);
      }
      if (control.header !== undefined) {
        if (this.meta !== undefined) throw this.fail(at, "a second header frame");
        this.meta = control.header;
      } else {
        if (this.meta === undefined) throw this.fail(at, "a footer before the header");
        this.footer = control.footer;
      }
      return;
    }
    if (this.meta === undefined) throw this.fail(at, "records before the header frame");
    try {
      const outer = new WireReader(payload);
      outer.tag();
      const [start, end] = outer.span();
      if (!outer.done()) throw new Error("trailing bytes after the records");
      const r = new WireReader(payload, start, end);
      while (!r.done()) {
        const tag = r.tag();
        const [s, e] = r.span();
        switch (tag) {
          case (1 << 3) | WT_LEN:
            this.live.push(readKeyValue(payload, s, e, undefined, this.copy));
            break;
          case (2 << 3) | WT_LEN:
            this.history.push(readKeyValue(payload, s, e, undefined, this.copy));
            break;
          case (3 << 3) | WT_LEN:
            this.leases.push(decodeLease(payload.slice(s, e)));
            break;
          case (4 << 3) | WT_LEN:
            this.sessions.push(decodeSessionRecord(payload.slice(s, e)));
            break;
          default:
            throw new Error(`unknown record field tag ${tag}`);
        }
      }
    } catch (e) {
      throw this.fail(at, `undecodable records frame (${(e as Error).message})`);
    }
  }

  finish(): DecodedSnapshot {
    if (!this.sawMagic) throw this.fail(this.offset, "stream ends before the magic");
    if (this.buffered > 0) throw this.fail(this.offset, "stream ends inside a frame (truncated)");
    if (this.meta === undefined) throw this.fail(this.offset, "no header frame");
    const f = this.footer;
    if (f === undefined) throw this.fail(this.offset, "no footer frame (truncated)");
    const seen = {
      live: this.live.length,
      history: this.history.length,
      leases: this.leases.length,
      sessions: this.sessions.length,
    };
    if (
      f.live !== seen.live ||
      f.history !== seen.history ||
      f.leases !== seen.leases ||
      f.sessions !== seen.sessions
    ) {
      throw this.fail(
        this.offset,
        `record counts ${JSON.stringify(seen)} differ from the footer's ${JSON.stringify(f)}`,
      );
    }
    return {
      meta: this.meta,
      live: this.live,
      history: this.history,
      leases: this.leases,
      sessions: this.sessions,
    };
  }
}

export type SnapshotSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Decodes a whole snapshot from bytes or a (sync or async) chunk stream. */
export async function decodeSnapshot(
  source: SnapshotSource,
  name: string,
  views = false,
): Promise<DecodedSnapshot> {
  const d = new SnapshotDecoder(name, views);
  if (source instanceof Uint8Array) d.push(source);
  else if (Symbol.asyncIterator in source) for await (const c of source) d.push(c);
  else for (const c of source) d.push(c);
  return d.finish();
}
