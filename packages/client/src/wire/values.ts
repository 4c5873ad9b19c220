// The values several RPCs share: key-values, read consistency and write sessions.
import { create } from "@bufbuild/protobuf";
import { KeyValueSchema, type KeyValue as PbKeyValue } from "@d-engine/proto";
import {
  type WriteSession as PbWriteSession,
  ReadConsistency,
  WriteSessionSchema,
} from "@d-engine/proto/api";
import { InvalidArgumentError } from "../errors.js";
import type { Consistency, KeyValue, WriteSession } from "../types.js";
import { fromU64, toU64 } from "./numbers.js";

export function toWireKeyValue(kv: KeyValue): PbKeyValue {
  return create(KeyValueSchema, {
    key: kv.key,
    value: kv.value,
    createRevision: toU64(kv.createRevision, "kv.create_revision"),
    modRevision: toU64(kv.modRevision, "kv.mod_revision"),
    version: toU64(kv.version, "kv.version"),
    lease: toU64(kv.lease, "kv.lease"),
  });
}

export function fromWireKeyValue(kv: PbKeyValue, field = "kv"): KeyValue {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: fromU64(kv.createRevision, `${field}.create_revision`),
    modRevision: fromU64(kv.modRevision, `${field}.mod_revision`),
    version: fromU64(kv.version, `${field}.version`),
    lease: fromU64(kv.lease, `${field}.lease`),
  };
}

export function fromWireKeyValues(kvs: readonly PbKeyValue[], field: string): KeyValue[] {
  return kvs.map((kv, i) => fromWireKeyValue(kv, `${field}[${i}]`));
}

const CONSISTENCY_TO_WIRE: Record<Consistency, ReadConsistency> = {
  linearizable: ReadConsistency.LINEARIZABLE,
  lease: ReadConsistency.LEASE,
  eventual: ReadConsistency.EVENTUAL,
};

export function toWireConsistency(c: Consistency | undefined): ReadConsistency {
  if (c === undefined) return ReadConsistency.DEFAULT;
  const v = CONSISTENCY_TO_WIRE[c];
  if (v === undefined) {
    throw new InvalidArgumentError(
      `consistency must be "linearizable", "lease" or "eventual", got ${JSON.stringify(c)}`,
    );
  }
  return v;
}

/** undefined: the server's default. */
export function fromWireConsistency(c: ReadConsistency): Consistency | undefined {
  switch (c) {
    case ReadConsistency.DEFAULT:
      return undefined;
    case ReadConsistency.LINEARIZABLE:
      return "linearizable";
    case ReadConsistency.LEASE:
      return "lease";
    case ReadConsistency.EVENTUAL:
      return "eventual";
    default:
      throw new InvalidArgumentError(`consistency: unknown ReadConsistency value ${c}`);
  }
}

export function toWireSession(s: WriteSession | undefined): PbWriteSession | undefined {
  if (s === undefined) return undefined;
  return create(WriteSessionSchema, {
    clientId: s.clientId,
    sequence: toU64(s.sequence, "session.sequence"),
    firstIncomplete: toU64(s.firstIncomplete, "session.first_incomplete"),
  });
}

/**
 * A session from the wire, validated: a client id, a positive sequence, and a first-incomplete
 * sequence that does not pass it (0 means "this one"). Absent: the write has no exactly-once
 * identity (a plain gRPC caller).
 */
export function fromWireSession(s: PbWriteSession | undefined): WriteSession | undefined {
  if (s === undefined) return undefined;
  if (s.clientId === "") throw new InvalidArgumentError("session.client_id is required");
  if (s.clientId.length > 256) {
    throw new InvalidArgumentError(
      `session.client_id is ${s.clientId.length} characters, at most 256 allowed`,
    );
  }
  const sequence = fromU64(s.sequence, "session.sequence");
  if (sequence === 0) throw new InvalidArgumentError("session.sequence must be positive");
  const firstIncomplete = fromU64(s.firstIncomplete, "session.first_incomplete");
  if (firstIncomplete > sequence) {
    throw new InvalidArgumentError(
      `session.first_incomplete (${firstIncomplete}) is past session.sequence (${sequence})`,
    );
  }
  return { clientId: s.clientId, sequence, firstIncomplete: firstIncomplete || sequence };
}

/** A required key: present and not empty. */
export function requireKey(key: Uint8Array, field: string): Uint8Array {
  if (key.length === 0) throw new InvalidArgumentError(`${field} is required (a non-empty key)`);
  return key;
}
