// The applied membership: the core's ConfState plus the address book, kept in step as
// membership changes apply, and pushed to the transport (where to reach each peer).
import type { Member } from "@d-engine/client";
import { ConfChangeType, type ConfState, type Entry, RawNode } from "@d-engine/core";
import type { PeerTransport } from "@d-engine/transport";
import type { AddressBook, MemberRecord } from "./address-book.js";

export class Membership {
  /** Addresses peers told us in their hello; used until the log tells us (joining nodes). */
  private readonly hints = new Map<number, string>();
  private pushed = new Map<number, string>();
  private transport: PeerTransport | undefined;
  /** The index of the last membership change applied. */
  lastChangeIndex = 0;
  /** Told after each applied change or installed snapshot (membership watches). */
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly selfId: number,
    readonly book: AddressBook,
    public confState: ConfState,
  ) {}

  attach(transport: PeerTransport): void {
    this.transport = transport;
    this.syncTransport();
  }

  /** Applies a committed ConfChange entry to the core and the book; returns the new ConfState. */
  applyEntry(raw: RawNode, e: Entry): ConfState {
    const cc = RawNode.decodeConfChange(e);
    this.confState = raw.applyConfChange(cc);
    this.book.apply(cc);
    for (const c of cc.changes) {
      if (c.type === ConfChangeType.RemoveNode) this.hints.delete(c.nodeId);
    }
    this.lastChangeIndex = e.index;
    this.syncTransport();
    this.changed();
    return this.confState;
  }

  /** Calls `listener` after each applied membership change; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => {
      this.changeListeners.delete(listener);
    };
  }

  private changed(): void {
    for (const l of this.changeListeners) {
      try {
        l();
      } catch (e) {
        // The change is applied; a failing listener must not look like a failed apply.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  /** A snapshot was installed. */
  restore(confState: ConfState, members: readonly MemberRecord[], index: number): void {
    this.confState = confState;
    this.book.replace(members);
    this.lastChangeIndex = Math.max(this.lastChangeIndex, index);
    this.syncTransport();
    this.changed();
  }

  /** A peer introduced itself (hello of a stream it opened to us). */
  hint(id: number, address: string): void {
    if (id === this.selfId || !address) return;
    this.hints.set(id, address);
    this.syncTransport();
  }

  isVoter(id: number): boolean {
    return this.confState.voters.includes(id) || this.confState.votersOutgoing.includes(id);
  }

  isLearner(id: number): boolean {
    return this.confState.learners.includes(id) || this.confState.learnersNext.includes(id);
  }

  isMember(id: number): boolean {
    return this.isVoter(id) || this.isLearner(id);
  }

  /** The address clients use for `id` ("" if unknown). */
  clientAddress(id: number): string {
    return this.book.get(id)?.clientAddress || this.hints.get(id) || "";
  }

  members(): Member[] {
    const ids = new Set<number>([
      ...this.confState.voters,
      ...this.confState.votersOutgoing,
      ...this.confState.learners,
      ...this.confState.learnersNext,
    ]);
    return [...ids]
      .sort((a, b) => a - b)
      .map((id) => {
        const rec = this.book.get(id);
        return {
          id,
          role: this.isVoter(id) ? "voter" : "learner",
          clientAddress: rec?.clientAddress ?? "",
          peerAddress: rec?.address ?? "",
          readOnly: rec?.readOnly ?? false,
        };
      });
  }

  /** Tells the transport where every peer is, and forgets peers that left. */
  private syncTransport(): void {
    const t = this.transport;
    if (!t) return;
    const want = new Map<number, string>(this.hints);
    for (const r of this.book.list()) if (r.address) want.set(r.id, r.address);
    want.delete(this.selfId);
    for (const [id, address] of want) {
      if (this.pushed.get(id) !== address) t.setPeerAddress(id, address);
    }
    for (const id of this.pushed.keys()) {
      if (!want.has(id)) t.removePeer(id);
    }
    this.pushed = want;
  }
}
