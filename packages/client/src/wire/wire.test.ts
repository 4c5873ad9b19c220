// Every conversion both ways, through real protobuf bytes: what the client encodes is what the
// server decodes, and what the server answers is what the client returns. Bad input is refused
// with InvalidArgumentError naming the field.
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { TxnRequestSchema as PbTxnSchema, RequestOpSchema } from "@d-engine/proto";
import {
  AddLearnerRequestSchema,
  CompactRequestSchema,
  CompactResponseSchema,
  CompareAndSwapRequestSchema,
  CompareAndSwapResponseSchema,
  DeleteRequestSchema,
  DeleteResponseSchema,
  GetManyRequestSchema,
  GetManyResponseSchema,
  GetRequestSchema,
  GetResponseSchema,
  LeaderResponseSchema,
  PutRequestSchema,
  PutResponseSchema,
  RangeRequestSchema,
  RangeResponseSchema,
  StatusResponseSchema,
  TakeSnapshotResponseSchema,
  TxnRequestSchema,
  TxnResponseSchema,
} from "@d-engine/proto/api";
import { describe, expect, it } from "vitest";
import { toBytes } from "../bytes.js";
import { InvalidArgumentError } from "../errors.js";
import type { KeyValue, NodeStatus, Txn, TxnResult, WriteSession } from "../types.js";
import {
  fromWireAddLearnerRequest,
  fromWireLeaderResponse,
  fromWireStatusResponse,
  fromWireTakeSnapshotResponse,
  toWireAddLearnerRequest,
  toWireLeaderResponse,
  toWireStatusResponse,
  toWireTakeSnapshotResponse,
} from "./cluster.js";
import {
  fromWireCompactRequest,
  fromWireCompactResponse,
  fromWireCompareAndSwapRequest,
  fromWireCompareAndSwapResponse,
  fromWireDeleteRequest,
  fromWireDeleteResponse,
  fromWireGetManyRequest,
  fromWireGetManyResponse,
  fromWireGetRequest,
  fromWireGetResponse,
  fromWirePutRequest,
  fromWirePutResponse,
  fromWireRangeRequest,
  fromWireRangeResponse,
  fromWireTxnRequest,
  fromWireTxnResponse,
  toWireCompactRequest,
  toWireCompactResponse,
  toWireCompareAndSwapRequest,
  toWireCompareAndSwapResponse,
  toWireDeleteRequest,
  toWireDeleteResponse,
  toWireGetManyRequest,
  toWireGetManyResponse,
  toWireGetRequest,
  toWireGetResponse,
  toWirePutRequest,
  toWirePutResponse,
  toWireRangeRequest,
  toWireRangeResponse,
  toWireTxnRequest,
  toWireTxnResponse,
} from "./kv.js";
import { fromU64, toU64 } from "./numbers.js";

/** Through the bytes, as the network would carry it. */
function wire<D extends DescMessage>(schema: D, m: MessageShape<D>): MessageShape<D> {
  return fromBinary(schema, toBinary(schema, m));
}

const b = (s: string): Uint8Array => toBytes(s);
const kv = (k: string, v: string, rev: number): KeyValue => ({
  key: b(k),
  value: b(v),
  createRevision: rev,
  modRevision: rev + 1,
  version: 2,
  lease: 0,
});
const session: WriteSession = { clientId: "c1", sequence: 7, firstIncomplete: 5 };

function invalid(fn: () => unknown, field: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  if (typeof field === "string") expect((caught as Error).message).toContain(field);
  else expect((caught as Error).message).toMatch(field);
}

describe("numbers", () => {
  it("converts safe integers and refuses the rest, naming the field", () => {
    expect(fromU64(2n ** 53n - 1n, "x")).toBe(Number.MAX_SAFE_INTEGER);
    invalid(() => fromU64(2n ** 53n, "kv.mod_revision"), "kv.mod_revision");
    expect(toU64(42, "x")).toBe(42n);
    invalid(() => toU64(-1, "lease"), "lease");
    invalid(() => toU64(1.5, "lease"), "lease");
    invalid(() => toU64(2 ** 53, "revision"), "revision");
    // A response carrying an unsafe number is refused on the client too.
    const res = create(PutResponseSchema, { revision: 2n ** 60n });
    invalid(() => fromWirePutResponse(wire(PutResponseSchema, res)), "revision");
  });
});

describe("key-value requests: client encode -> server decode", () => {
  it("put", () => {
    const req = wire(
      PutRequestSchema,
      toWirePutRequest("k", "v", { ttlSeconds: 30, prevKv: true }, session),
    );
    expect(fromWirePutRequest(req)).toEqual({
      key: b("k"),
      value: b("v"),
      opts: { ttlSeconds: 30, prevKv: true, session },
    });
    const leased = fromWirePutRequest(
      wire(PutRequestSchema, toWirePutRequest("k", "", { lease: 9 }, undefined)),
    );
    expect(leased).toEqual({ key: b("k"), value: new Uint8Array(0), opts: { lease: 9 } });
    invalid(
      () => fromWirePutRequest(create(PutRequestSchema, { value: b("v") })),
      "key is required",
    );
    invalid(
      () =>
        fromWirePutRequest(create(PutRequestSchema, { key: b("k"), lease: 1n, ttlSeconds: 1n })),
      "lease and ttl_seconds",
    );
    invalid(
      () =>
        fromWirePutRequest(
          create(PutRequestSchema, { key: b("k"), session: { clientId: "", sequence: 1n } }),
        ),
      "session.client_id",
    );
    invalid(
      () =>
        fromWirePutRequest(
          create(PutRequestSchema, { key: b("k"), session: { clientId: "c", sequence: 0n } }),
        ),
      "session.sequence",
    );
    invalid(
      () =>
        fromWirePutRequest(
          create(PutRequestSchema, {
            key: b("k"),
            session: { clientId: "c", sequence: 2n, firstIncomplete: 3n },
          }),
        ),
      "session.first_incomplete",
    );
  });

  it("get and getMany, with consistency", () => {
    const g = fromWireGetRequest(
      wire(GetRequestSchema, toWireGetRequest("k", { revision: 4, consistency: "lease" })),
    );
    expect(g).toEqual({ key: b("k"), opts: { revision: 4, consistency: "lease" } });
    expect(fromWireGetRequest(wire(GetRequestSchema, toWireGetRequest("k", undefined)))).toEqual({
      key: b("k"),
      opts: {},
    });
    invalid(
      () => fromWireGetRequest(create(GetRequestSchema, { key: b("k"), consistency: 9 as never })),
      "consistency",
    );
    invalid(() => toWireGetRequest("k", { consistency: "strong" as never }), "consistency");
    const m = fromWireGetManyRequest(
      wire(GetManyRequestSchema, toWireGetManyRequest(["a", "b"], { consistency: "eventual" })),
    );
    expect(m).toEqual({ keys: [b("a"), b("b")], opts: { consistency: "eventual" } });
    invalid(
      () => fromWireGetManyRequest(create(GetManyRequestSchema, { keys: [b("a"), b("")] })),
      "keys[1]",
    );
  });

  it("range and prefix", () => {
    const r = fromWireRangeRequest(
      wire(
        RangeRequestSchema,
        toWireRangeRequest({
          key: "a",
          rangeEnd: "z",
          limit: 10,
          revision: 3,
          sortOrder: "descend",
          sortTarget: "mod",
          keysOnly: true,
          minModRevision: 2,
          consistency: "linearizable",
        }),
      ),
    );
    expect(r.opts).toMatchObject({
      key: b("a"),
      rangeEnd: b("z"),
      limit: 10,
      revision: 3,
      sortOrder: "descend",
      sortTarget: "mod",
      keysOnly: true,
      countOnly: false,
      minModRevision: 2,
      consistency: "linearizable",
    });
    const p = fromWireRangeRequest(
      wire(RangeRequestSchema, toWireRangeRequest({ prefix: "app/", limit: 2 })),
    );
    expect(p.opts).toMatchObject({ prefix: b("app/"), limit: 2 });
    // The empty prefix is every key: key "\0", range end "\0".
    const all = fromWireRangeRequest(wire(RangeRequestSchema, toWireRangeRequest({ prefix: "" })));
    expect(all.opts).toMatchObject({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
    invalid(() => toWireRangeRequest({}), "key or prefix");
    invalid(() => fromWireRangeRequest(create(RangeRequestSchema, {})), "range or prefix");
    invalid(
      () =>
        fromWireRangeRequest(
          create(RangeRequestSchema, { range: { key: b("a"), sortOrder: 7 as never } }),
        ),
      "range.sort_order",
    );
    invalid(
      () => toWireRangeRequest({ key: "a", sortTarget: "size" as never }),
      "range.sort_target",
    );
  });

  it("delete, compare-and-swap, compact", () => {
    expect(
      fromWireDeleteRequest(
        wire(
          DeleteRequestSchema,
          toWireDeleteRequest("p/", { prefix: true, prevKv: true }, session),
        ),
      ),
    ).toEqual({ key: b("p/"), opts: { prefix: true, prevKv: true, session } });
    expect(
      fromWireDeleteRequest(
        wire(DeleteRequestSchema, toWireDeleteRequest("a", { rangeEnd: "c" }, undefined)),
      ),
    ).toEqual({ key: b("a"), opts: { rangeEnd: b("c") } });
    invalid(() => fromWireDeleteRequest(create(DeleteRequestSchema, {})), "key is required");
    invalid(
      () =>
        fromWireDeleteRequest(create(DeleteRequestSchema, { prefix: b("p"), rangeEnd: b("q") })),
      "prefix and range_end",
    );

    expect(
      fromWireCompareAndSwapRequest(
        wire(
          CompareAndSwapRequestSchema,
          toWireCompareAndSwapRequest("k", undefined, "v", session),
        ),
      ),
    ).toEqual({ key: b("k"), expected: undefined, value: b("v"), opts: { session } });
    // An empty expected value is not "absent".
    expect(
      fromWireCompareAndSwapRequest(
        wire(CompareAndSwapRequestSchema, toWireCompareAndSwapRequest("k", "", "v", undefined)),
      ).expected,
    ).toEqual(new Uint8Array(0));

    expect(
      fromWireCompactRequest(wire(CompactRequestSchema, toWireCompactRequest(12, session))),
    ).toEqual({
      revision: 12,
      opts: { session },
    });
    invalid(() => fromWireCompactRequest(create(CompactRequestSchema, {})), "revision is required");
  });

  it("transactions", () => {
    const txn: Txn = {
      compare: [
        { key: b("a"), target: "value", result: "=", value: b("1") },
        { key: b("b"), rangeEnd: b("c"), target: "mod", result: "<", number: 5 },
        { key: b("c"), target: "lease", result: "!=", number: 0 },
        { key: b("d"), target: "version", result: ">", number: 1 },
        { key: b("e"), target: "create", result: "=", number: 3 },
      ],
      success: [
        { type: "put", key: b("a"), value: b("2"), lease: 4, prevKv: true },
        { type: "get", key: b("b"), rangeEnd: b("c"), limit: 3 },
        { type: "delete", key: b("d"), prevKv: false },
      ],
      failure: [{ type: "put", key: b("x"), value: b("y"), prevKv: false }],
    };
    const back = fromWireTxnRequest(wire(TxnRequestSchema, toWireTxnRequest(txn, session)));
    expect(back).toEqual({ txn, opts: { session } });

    const nested = create(TxnRequestSchema, {
      txn: create(PbTxnSchema, {
        success: [
          create(RequestOpSchema, { request: { case: "requestTxn", value: create(PbTxnSchema) } }),
        ],
      }),
    });
    invalid(() => fromWireTxnRequest(nested), "txn.success[0]: nested");
    const empty = create(TxnRequestSchema, {
      txn: create(PbTxnSchema, { failure: [create(RequestOpSchema)] }),
    });
    invalid(() => fromWireTxnRequest(empty), "txn.failure[0]: the operation is missing");
    invalid(() => fromWireTxnRequest(create(TxnRequestSchema)), "txn is required");
    invalid(
      () =>
        toWireTxnRequest(
          { compare: [{ key: "a", target: "value", result: "=" }], success: [] },
          undefined,
        ),
      "txn.compare[0]",
    );
    invalid(
      () =>
        toWireTxnRequest(
          { compare: [{ key: "a", target: "mod", result: "~" as never }], success: [] },
          undefined,
        ),
      "txn.compare[0].result",
    );
  });
});

describe("key-value responses: server encode -> client decode", () => {
  it("every response", () => {
    const put = { revision: 5, lease: 0, prevKv: kv("a", "1", 2) };
    expect(fromWirePutResponse(wire(PutResponseSchema, toWirePutResponse(put)))).toEqual(put);
    expect(
      fromWireGetResponse(wire(GetResponseSchema, toWireGetResponse(kv("a", "1", 2)))),
    ).toEqual(kv("a", "1", 2));
    expect(
      fromWireGetResponse(wire(GetResponseSchema, toWireGetResponse(undefined))),
    ).toBeUndefined();
    const many = { revision: 9, kvs: [kv("a", "1", 2), undefined, kv("c", "", 4)] };
    expect(
      fromWireGetManyResponse(wire(GetManyResponseSchema, toWireGetManyResponse(many))),
    ).toEqual(many);
    const range = { revision: 9, kvs: [kv("a", "1", 2)], more: true, count: 4 };
    expect(fromWireRangeResponse(wire(RangeResponseSchema, toWireRangeResponse(range)))).toEqual(
      range,
    );
    const del = { revision: 10, deleted: 2, prevKvs: [kv("a", "1", 2), kv("b", "2", 3)] };
    expect(fromWireDeleteResponse(wire(DeleteResponseSchema, toWireDeleteResponse(del)))).toEqual(
      del,
    );
    const cas = { succeeded: false, revision: 10, prevKv: kv("a", "1", 2) };
    expect(
      fromWireCompareAndSwapResponse(
        wire(CompareAndSwapResponseSchema, toWireCompareAndSwapResponse(cas)),
      ),
    ).toEqual(cas);
    const txn: TxnResult = {
      revision: 11,
      succeeded: true,
      results: [
        { type: "put", revision: 11, prevKv: kv("a", "1", 2) },
        { type: "put", revision: 11 },
        { type: "get", revision: 11, kvs: [kv("b", "x", 3)], more: false, count: 1 },
        { type: "delete", revision: 11, deleted: 1, prevKvs: [] },
      ],
    };
    expect(fromWireTxnResponse(wire(TxnResponseSchema, toWireTxnResponse(txn)))).toEqual(txn);
    expect(
      fromWireCompactResponse(wire(CompactResponseSchema, toWireCompactResponse({ revision: 3 }))),
    ).toEqual({
      revision: 3,
    });
  });
});

describe("cluster and maintenance", () => {
  it("round-trips members, leader, status and snapshots", () => {
    const learner = {
      id: 4,
      clientAddress: "10.0.0.4:2379",
      peerAddress: "[::1]:2380",
      readOnly: true,
    };
    expect(
      fromWireAddLearnerRequest(wire(AddLearnerRequestSchema, toWireAddLearnerRequest(learner))),
    ).toEqual(learner);
    invalid(
      () =>
        fromWireAddLearnerRequest(
          create(AddLearnerRequestSchema, { id: 4n, clientAddress: "nope", peerAddress: "a:1" }),
        ),
      "client_address",
    );
    invalid(() => fromWireAddLearnerRequest(create(AddLearnerRequestSchema, {})), "id is required");

    const leader = { leaderId: 2, leaderAddress: "127.0.0.1:7002", term: 9 };
    expect(
      fromWireLeaderResponse(wire(LeaderResponseSchema, toWireLeaderResponse(leader))),
    ).toEqual(leader);

    const status: NodeStatus = {
      id: 1,
      clusterId: "prod",
      role: "leader",
      term: 9,
      leaderId: 1,
      commitIndex: 100,
      appliedIndex: 99,
      lastIndex: 101,
      snapshotIndex: 50,
      revision: 77,
      members: [
        { id: 1, role: "voter", clientAddress: "a:1", peerAddress: "a:2", readOnly: false },
        { id: 4, role: "learner", clientAddress: "b:1", peerAddress: "b:2", readOnly: true },
      ],
      matchIndex: { 2: 100, 3: 98 },
    };
    expect(
      fromWireStatusResponse(wire(StatusResponseSchema, toWireStatusResponse(status))),
    ).toEqual(status);
    invalid(() => fromWireStatusResponse(create(StatusResponseSchema, { role: "king" })), "role");

    const snap = { index: 50, term: 8, bytes: 12345 };
    expect(
      fromWireTakeSnapshotResponse(
        wire(TakeSnapshotResponseSchema, toWireTakeSnapshotResponse(snap)),
      ),
    ).toEqual(snap);
  });
});
