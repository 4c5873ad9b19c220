// Client sessions: exactly-once application of client writes (DESIGN.md principle 5). A write
// carrying (client id, sequence) that was applied before gets its remembered answer instead of
// applying again. A client keeps several writes in flight by sending `firstIncomplete`, its lowest
// sequence still without an answer: answers below it are forgotten. Sessions idle (by log time)
// for longer than `idleMs` expire; every replica expires them at the same command.

import { EMPTY, readU64, u64Key, u64PrefixedKey, utf8 } from "./bytes.js";
import { invalidArgument } from "./errors.js";
import type { KvTableSet, SessionAnswer, SessionRecord } from "./tables.js";
import type { ClientSession, KvResponse } from "./types.js";

export interface SessionOptions {
  /** Log time (ms) after a client's last write at which its session is forgotten; 0: never. */
  readonly idleMs: number;
  /** The most answers remembered per client; older ones are forgotten first. */
  readonly maxAnswers: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleMs: 3_600_000, maxAnswers: 128 };

/** Decoded session records kept across batches at most (then they start over). */
const MAX_KNOWN_SESSIONS = 10_000;

/** Client ids are table keys; keep them short. */
export const MAX_CLIENT_ID_BYTES = 256;

export type SessionLookup =
  | { readonly kind: "new" }
  | { readonly kind: "duplicate"; readonly response: KvResponse }
  | { readonly kind: "discarded"; readonly floor: number };

/** A session record as the current batch sees it, and as the tables still hold it. */
interface StagedSession {
  rec: SessionRecord | undefined;
  stored: SessionRecord | undefined;
  dirty: boolean;
  /** rec.answers is this batch's own array (copied once), so remember() may change it in place. */
  owned: boolean;
}

export class Sessions {
  /**
   * Write-back cache for one applied batch: a client with many writes in one batch (one client
   * with hundreds in flight) had its whole record (up to maxAnswers answers) decoded, re-encoded
   * and rewritten once per write; now once per batch. The outcome is the same as writing through:
   * every read goes through the cache, and expiry (the only other reader of the tables) sees the
   * cache flushed first.
   */
  private staged: Map<string, StagedSession> | undefined;
  /**
   * Committed records by client id, as decoded: a client writing in every batch has its record
   * read and decoded once, not once per batch (protobuf-es decoding a record was about a sixth
   * of applying one write). Records are never changed in place (remember() copies the answers
   * unless the batch made them), so a kept record stays what the tables hold. Forgotten
   * whenever the tables may say otherwise: an aborted batch, expiry, a restore.
   */
  private readonly known = new Map<string, SessionRecord>();

  constructor(
    private readonly t: KvTableSet,
    private readonly options: SessionOptions,
  ) {}

  /** Starts caching records until endBatch (or abortBatch when the batch fails). */
  beginBatch(): void {
    this.staged = new Map();
  }

  /** Saves the records the batch changed, once each. */
  endBatch(): void {
    this.flushStaged();
    this.staged = undefined;
  }

  abortBatch(): void {
    this.staged = undefined;
    this.forgetAll();
  }

  /** Forgets the decoded records kept across batches (the tables may no longer hold them). */
  forgetAll(): void {
    this.known.clear();
  }

  private know(rec: SessionRecord): void {
    if (this.known.size >= MAX_KNOWN_SESSIONS) this.known.clear();
    this.known.set(rec.clientId, rec);
  }

  private flushStaged(): void {
    if (this.staged === undefined) return;
    for (const s of this.staged.values()) {
      if (!s.dirty || s.rec === undefined) continue;
      this.save(s.rec, s.stored);
      s.stored = s.rec;
      s.dirty = false;
    }
  }

  /** Records a changed session: in the batch's cache, or straight to the tables. */
  private stage(rec: SessionRecord, old: SessionRecord | undefined, owned?: boolean): void {
    const s = this.staged?.get(rec.clientId);
    if (s === undefined) {
      if (this.staged === undefined) this.save(rec, old);
      else this.staged.set(rec.clientId, { rec, stored: old, dirty: true, owned: owned ?? false });
      return;
    }
    s.rec = rec;
    s.dirty = true;
    if (owned !== undefined) s.owned = owned;
  }

  static check(s: ClientSession): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short ids need no encoding to be checked.
    const n = s.clientId.length;
    const idBytes = n > 0 && n * 3 <= MAX_CLIENT_ID_BYTES ? n : utf8(s.clientId).length;
    if (idBytes === 0 || idBytes > MAX_CLIENT_ID_BYTES) {
      throw invalidArgument(`client id must be 1..${MAX_CLIENT_ID_BYTES} bytes, got ${idBytes}`);
    }
    if (!Number.isSafeInteger(s.sequence) || s.sequence < 1) {
      throw invalidArgument(`client sequence must be a positive integer, got ${s.sequence}`);
    }
    const fi = s.firstIncomplete ?? 0;
    if (!Number.isSafeInteger(fi) || fi < 0 || fi > s.sequence) {
      throw invalidArgument(
        `first incomplete sequence must be 0..${s.sequence} (the write's sequence), got ${fi}`,
      );
    }
  }

  get(clientId: string): SessionRecord | undefined {
    const s = this.staged?.get(clientId);
    if (s !== undefined) return s.rec;
    let rec = this.known.get(clientId);
    if (rec === undefined) {
      rec = this.t.sessions.get(utf8(clientId));
      if (rec !== undefined) this.know(rec);
    }
    this.staged?.set(clientId, { rec, stored: rec, dirty: false, owned: false });
    return rec;
  }

  lookup(s: ClientSession): SessionLookup {
    const rec = this.get(s.clientId);
    if (rec === undefined) return { kind: "new" };
    if (s.sequence < rec.floor) return { kind: "discarded", floor: rec.floor };
    // Answers are kept sorted by sequence: binary search.
    const a = rec.answers;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((a[mid] as SessionAnswer).sequence < s.sequence) lo = mid + 1;
      else hi = mid;
    }
    const hit = a[lo];
    return hit !== undefined && hit.sequence === s.sequence
      ? { kind: "duplicate", response: hit.response }
      : { kind: "new" };
  }

  /** Marks the client active at `nowMs` (a retry shows it is alive). */
  touch(clientId: string, nowMs: number): void {
    const rec = this.get(clientId);
    if (rec !== undefined) this.stage({ ...rec, lastSeenMs: nowMs }, rec);
  }

  /** Remembers the answer to a write just applied. */
  remember(s: ClientSession, response: KvResponse, nowMs: number): void {
    const old = this.get(s.clientId);
    let floor = Math.max(old?.floor ?? 0, s.firstIncomplete || s.sequence);
    // Copied once per batch, then changed in place: a client with many writes in one batch
    // would otherwise copy its whole list of answers for each of them.
    const answers: SessionAnswer[] =
      this.staged?.get(s.clientId)?.owned === true
        ? (old?.answers as SessionAnswer[])
        : (old?.answers.slice() ?? []);
    // Sorted by sequence: what falls below the floor is a prefix; a new write usually goes last.
    let below = 0;
    while (below < answers.length && (answers[below] as SessionAnswer).sequence < floor) below++;
    if (below > 0) answers.splice(0, below);
    let at = answers.length;
    while (at > 0 && (answers[at - 1] as SessionAnswer).sequence > s.sequence) at--;
    const answer = { sequence: s.sequence, response };
    if (at === answers.length) answers.push(answer);
    else answers.splice(at, 0, answer);
    while (answers.length > this.options.maxAnswers) {
      const dropped = answers.shift();
      if (dropped !== undefined) floor = Math.max(floor, dropped.sequence + 1);
    }
    this.stage({ clientId: s.clientId, floor, lastSeenMs: nowMs, answers }, old, true);
  }

  /**
   * Forgets sessions idle since before `nowMs - idleMs`. Returns the last-seen time of the
   * oldest session left (Infinity if none): nothing expires before that time plus idleMs.
   */
  expire(nowMs: number): number {
    if (this.options.idleMs <= 0) return Number.POSITIVE_INFINITY;
    // Expiry reads the idle index: make the tables true first, and forget what they may drop.
    this.flushStaged();
    this.staged?.clear();
    const cutoff = nowMs - this.options.idleMs;
    if (cutoff >= 0) {
      const idle = [...this.t.sessionIdle.range(u64Key(0), u64Key(cutoff + 1))];
      if (idle.length > 0) this.forgetAll();
      for (const [k] of idle) {
        this.t.sessionIdle.delete(k);
        this.t.sessions.delete(k.slice(8));
      }
    }
    for (const [k] of this.t.sessionIdle.range(u64Key(0), undefined)) return readU64(k, 0);
    return Number.POSITIVE_INFINITY;
  }

  list(): SessionRecord[] {
    const out: SessionRecord[] = [];
    for (const [, rec] of this.t.sessions.range(EMPTY, undefined)) out.push(rec);
    return out;
  }

  /** Writes a session and its idle-index entry (used by restore too). */
  save(rec: SessionRecord, old?: SessionRecord): void {
    const id = utf8(rec.clientId);
    if (old !== undefined) this.t.sessionIdle.delete(u64PrefixedKey(old.lastSeenMs, id));
    this.t.sessions.put(id, rec);
    this.t.sessionIdle.put(u64PrefixedKey(rec.lastSeenMs, id), true);
    this.know(rec);
  }
}
