// Who the members are reachable at. Addresses travel through the log, in the `context` of the
// ConfChange that adds a member (JSON {address, clientAddress?, readOnly?}), so every replica
// learns them in the same order, and they are kept in the engine's snapshots (snapshots/envelope)
// so a node that catches up by snapshot learns them too.
import { type ConfChange, ConfChangeType } from "@d-engine/core";

export interface MemberRecord {
  readonly id: number;
  /** host:port of the peer service. */
  readonly address: string;
  /** host:port of the client service (the same port unless configured otherwise). */
  readonly clientAddress: string;
  /** A learner that is never promoted automatically. */
  readonly readOnly: boolean;
}

export interface MemberContext {
  readonly address?: string;
  readonly clientAddress?: string;
  readonly readOnly?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMemberContext(ctx: MemberContext): Uint8Array {
  return encoder.encode(JSON.stringify(ctx));
}

/** Reads a ConfChange context; anything that is not our JSON (empty, foreign) means "nothing". */
export function decodeMemberContext(bytes: Uint8Array): MemberContext {
  if (bytes.length === 0) return {};
  try {
    const v = JSON.parse(decoder.decode(bytes)) as unknown;
    if (typeof v !== "object" || v === null) return {};
    const o = v as Record<string, unknown>;
    return {
      ...(typeof o.address === "string" ? { address: o.address } : {}),
      ...(typeof o.clientAddress === "string" ? { clientAddress: o.clientAddress } : {}),
      ...(typeof o.readOnly === "boolean" ? { readOnly: o.readOnly } : {}),
    };
  } catch {
    return {};
  }
}

export class AddressBook {
  private readonly members = new Map<number, MemberRecord>();

  get(id: number): MemberRecord | undefined {
    return this.members.get(id);
  }

  list(): MemberRecord[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id);
  }

  /** Replaces everything (a snapshot was installed). */
  replace(records: readonly MemberRecord[]): void {
    this.members.clear();
    for (const r of records) this.members.set(r.id, r);
  }

  /** Applies a committed membership change. */
  apply(cc: ConfChange): void {
    const ctx = decodeMemberContext(cc.context);
    for (const c of cc.changes) {
      if (c.type === ConfChangeType.RemoveNode) {
        this.members.delete(c.nodeId);
        continue;
      }
      const prev = this.members.get(c.nodeId);
      const address = ctx.address ?? prev?.address ?? "";
      this.members.set(c.nodeId, {
        id: c.nodeId,
        address,
        clientAddress: ctx.clientAddress ?? prev?.clientAddress ?? address,
        // Promotion to voter ends read-only status; a learner keeps what it was added with.
        readOnly:
          c.type === ConfChangeType.AddLearner ? (ctx.readOnly ?? prev?.readOnly ?? false) : false,
      });
    }
  }
}
