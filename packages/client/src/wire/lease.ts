// Lease messages (dengine.api.v1 LeaseService) <-> the lease API's types, for the network client
// and the server's handlers alike: both validate the same way.
import { create } from "@bufbuild/protobuf";
import {
  type LeaseGrantRequest,
  LeaseGrantRequestSchema,
  type LeaseGrantResponse,
  LeaseGrantResponseSchema,
  type LeaseKeepAliveOnceResponse,
  LeaseKeepAliveOnceResponseSchema,
  type LeaseListResponse,
  LeaseListResponseSchema,
  type LeaseRevokeResponse,
  LeaseRevokeResponseSchema,
  LeaseStatusSchema,
  type LeaseTimeToLiveResponse,
  LeaseTimeToLiveResponseSchema,
} from "@d-engine/proto/api";
import { InvalidArgumentError } from "../errors.js";
import type { LeaseGrant, LeaseStatus, LeaseTimeToLive } from "../lease/types.js";
import type { WriteSession } from "../types.js";
import { fromPositiveU64, fromU64, toU64 } from "./numbers.js";
import { fromWireSession, toWireSession } from "./values.js";

/** etcd's (and the state machine's) largest lease TTL in seconds. */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

/** Throws InvalidArgumentError unless `ttl` is a whole number of seconds in 1..MAX. */
export function checkLeaseTtl(ttl: number): void {
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_LEASE_TTL_SECONDS) {
    throw new InvalidArgumentError(
      `lease TTL must be 1..${MAX_LEASE_TTL_SECONDS} whole seconds, got ${ttl}`,
    );
  }
}

/** Throws InvalidArgumentError unless `id` is a positive safe integer. */
export function checkLeaseId(id: number): void {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new InvalidArgumentError(`lease id must be a positive integer, got ${id}`);
  }
}

export function toWireLeaseGrantRequest(
  ttlSeconds: number,
  id: number | undefined,
  session: WriteSession | undefined,
): LeaseGrantRequest {
  checkLeaseTtl(ttlSeconds);
  if (id) checkLeaseId(id);
  return create(LeaseGrantRequestSchema, {
    ttlSeconds: toU64(ttlSeconds, "ttl_seconds"),
    id: toU64(id ?? 0, "id"),
    session: toWireSession(session),
  });
}

export function fromWireLeaseGrantRequest(req: LeaseGrantRequest): {
  ttlSeconds: number;
  id: number;
  session: WriteSession | undefined;
} {
  const ttlSeconds = fromU64(req.ttlSeconds, "ttl_seconds");
  checkLeaseTtl(ttlSeconds);
  return { ttlSeconds, id: fromU64(req.id, "id"), session: fromWireSession(req.session) };
}

export function toWireLeaseGrantResponse(g: LeaseGrant, revision = 0): LeaseGrantResponse {
  return create(LeaseGrantResponseSchema, {
    id: toU64(g.id, "id"),
    ttlSeconds: toU64(g.ttlSeconds, "ttl_seconds"),
    revision: toU64(revision, "revision"),
  });
}

export function fromWireLeaseGrant(r: {
  readonly id: bigint;
  readonly ttlSeconds: bigint;
}): LeaseGrant {
  return { id: fromPositiveU64(r.id, "id"), ttlSeconds: fromU64(r.ttlSeconds, "ttl_seconds") };
}

export function toWireLeaseKeepAliveOnceResponse(g: LeaseGrant): LeaseKeepAliveOnceResponse {
  return create(LeaseKeepAliveOnceResponseSchema, {
    id: toU64(g.id, "id"),
    ttlSeconds: toU64(g.ttlSeconds, "ttl_seconds"),
  });
}

export function toWireLeaseRevokeResponse(r: { readonly revision: number }): LeaseRevokeResponse {
  return create(LeaseRevokeResponseSchema, { revision: toU64(r.revision, "revision") });
}

export function toWireLeaseTimeToLiveResponse(t: LeaseTimeToLive): LeaseTimeToLiveResponse {
  return create(LeaseTimeToLiveResponseSchema, {
    id: toU64(t.id, "id"),
    ttlSeconds: BigInt(t.ttlSeconds),
    grantedTtlSeconds: toU64(t.grantedTtlSeconds, "granted_ttl_seconds"),
    keys: [...t.keys],
  });
}

export function fromWireLeaseTimeToLiveResponse(r: LeaseTimeToLiveResponse): LeaseTimeToLive {
  const ttl = r.ttlSeconds < -1n ? -1 : Number(r.ttlSeconds);
  return {
    id: fromU64(r.id, "id"),
    ttlSeconds: Number.isSafeInteger(ttl) ? ttl : -1,
    grantedTtlSeconds: fromU64(r.grantedTtlSeconds, "granted_ttl_seconds"),
    keys: r.keys,
  };
}

export function toWireLeaseListResponse(list: readonly LeaseStatus[]): LeaseListResponse {
  return create(LeaseListResponseSchema, {
    leases: list.map((l) =>
      create(LeaseStatusSchema, {
        id: toU64(l.id, "id"),
        grantedTtlSeconds: toU64(l.grantedTtlSeconds, "granted_ttl_seconds"),
      }),
    ),
  });
}

export function fromWireLeaseListResponse(r: LeaseListResponse): LeaseStatus[] {
  return r.leases.map((l) => ({
    id: fromU64(l.id, "id"),
    grantedTtlSeconds: fromU64(l.grantedTtlSeconds, "granted_ttl_seconds"),
  }));
}
