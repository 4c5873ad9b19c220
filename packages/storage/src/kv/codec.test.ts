// The hand-written wire codecs must write exactly what protobuf-es writes, and read it back;
// history keys must sort by (key, revision); CRC32C must be the standard one.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { seededRng } from "@d-engine/core";
import * as pb from "@d-engine/proto";
import { describe, expect, it } from "vitest";
import { compareBytes, utf8 } from "./bytes.js";
import {
  decodeKvCommand,
  decodeKvCommandWithProtobuf,
  decodeKvResponse,
  decodeMeta,
  decodeSessionRecord,
  encodeKvCommand,
  encodeKvCommandWithProtobuf,
  encodeKvResponse,
  encodeMeta,
  encodeMetaWithProtobuf,
  encodeSessionRecord,
  encodeSessionRecordWithProtobuf,
  keyValueToProto,
} from "./codec.js";
import { crc32c } from "./crc32c.js";
import { isKvError } from "./errors.js";
import { decodeHistKey, histKey } from "./keyspace.js";
import { decodeChanges, encodeChanges, encodeKeyValue, readKeyValue } from "./record-codec.js";
import type { SessionRecord } from "./tables.js";
import type { KeyValue, KvCommand, KvResponse } from "./types.js";

const rng = seededRng(7);
const EMPTY_VALUE = new Uint8Array(0);

function randBytes(max: number): Uint8Array {
  const n = rng.nextInt(max + 1);
  return Uint8Array.from({ length: n }, () => (rng.nextInt(3) === 0 ? 0 : rng.nextInt(256)));
}

function randNum(): number {
  return [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER][
    rng.nextInt(8)
  ] as number;
}

function randKv(): KeyValue {
  return {
    key: randBytes(20),
    createRevision: randNum(),
    modRevision: randNum(),
    version: randNum(),
    value: randBytes(300),
    lease: randNum(),
  };
}

describe("KeyValue record codec (seed 7)", () => {
  it("writes the bytes protobuf-es writes and reads them back", () => {
    for (let i = 0; i < 300; i++) {
      const kv = randKv();
      const fast = encodeKeyValue(kv);
      expect(fast).toEqual(toBinary(pb.KeyValueSchema, keyValueToProto(kv)));
      expect(readKeyValue(fast)).toEqual(kv);
      // Without the key (LMDB tables keep it in the table key).
      expect(readKeyValue(encodeKeyValue(kv, false), 0, undefined, kv.key)).toEqual(kv);
    }
  });

  it("change lists are dengine.v1.KvChanges", () => {
    const list = Array.from({ length: 50 }, (_, i) => ({
      revision: randNum(),
      key: randBytes(200),
      created: i % 3 === 0,
    }));
    const bytes = encodeChanges(list);
    const viaProto = toBinary(
      pb.KvChangesSchema,
      create(pb.KvChangesSchema, {
        changes: list.map((c) => ({
          revision: BigInt(c.revision),
          key: c.key,
          created: c.created,
        })),
      }),
    );
    expect(bytes).toEqual(viaProto);
    expect(decodeChanges(bytes)).toEqual(list);
  });
});

describe("command codec", () => {
  const commands: KvCommand[] = [
    { op: { type: "put", key: utf8("k"), value: utf8("v"), lease: 5, prevKv: true }, timeMs: 9 },
    {
      op: {
        type: "put",
        key: utf8("k"),
        value: new Uint8Array(0),
        ignoreValue: true,
        ignoreLease: true,
      },
      session: { clientId: "cli€nt", sequence: 2 ** 40, firstIncomplete: 3 },
    },
    { op: { type: "delete-range", key: utf8("a"), rangeEnd: Uint8Array.of(0), prevKv: true } },
    { op: { type: "noop" }, timeMs: 2 ** 45 },
    {
      op: {
        type: "txn",
        compare: [
          { key: utf8("a"), target: "value", result: "!=", value: utf8("x") },
          { key: utf8("b"), rangeEnd: utf8("c"), target: "mod", result: "<", number: 4 },
        ],
        success: [
          {
            type: "range",
            key: utf8("a"),
            rangeEnd: utf8("z"),
            limit: 3,
            revision: 2,
            sortOrder: "descend",
            sortTarget: "value",
            keysOnly: true,
            countOnly: false,
            minModRevision: 1,
            maxModRevision: 9,
            minCreateRevision: 1,
            maxCreateRevision: 8,
          },
          {
            type: "txn",
            compare: [],
            success: [{ type: "delete-range", key: utf8("q") }],
            failure: [],
          },
        ],
        failure: [{ type: "put", key: utf8("f"), value: utf8("1") }],
      },
    },
    { op: { type: "compaction", revision: 12 } },
    { op: { type: "lease-grant", ttl: 30, id: 0 } },
    { op: { type: "lease-revoke", id: 3 } },
    { op: { type: "lease-keep-alive", id: 3 } },
    { op: { type: "lease-expire", ids: [1, 2, 2 ** 50] } },
    { op: { type: "put-with-ttl", key: utf8("t"), value: utf8("v"), ttl: 5, prevKv: true } },
  ];

  it("round-trips every operation; the fast path agrees with protobuf-es", () => {
    for (const cmd of commands) {
      const bytes = encodeKvCommand(cmd);
      const decoded = decodeKvCommand(bytes);
      expect(encodeKvCommand(decoded)).toEqual(bytes);
      expect(decoded).toEqual(decodeKvCommandWithProtobuf(bytes));
      expect(decoded.op.type).toBe(cmd.op.type);
    }
  });

  it("the fast encoder writes exactly protobuf-es's bytes for random puts, deletes and no-ops", () => {
    const seed = 20261123;
    const r = seededRng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[r.nextInt(xs.length)] as T;
    const num = () => pick([0, 1, 127, 128, 300, 2 ** 31, 2 ** 53 - 1]);
    const bytes = () => Uint8Array.from({ length: pick([0, 1, 8, 200]) }, () => r.nextInt(256));
    for (let i = 0; i < 500; i++) {
      const op: KvCommand["op"] = pick([
        () => ({ type: "noop" }) as const,
        () =>
          ({
            type: "put",
            key: bytes(),
            value: bytes(),
            ...(r.nextInt(2) ? { lease: num() } : {}),
            ...(r.nextInt(2) ? { prevKv: r.nextInt(2) === 1 } : {}),
            ...(r.nextInt(2) ? { ignoreValue: r.nextInt(2) === 1 } : {}),
            ...(r.nextInt(2) ? { ignoreLease: r.nextInt(2) === 1 } : {}),
          }) as const,
        () =>
          ({
            type: "delete-range",
            key: bytes(),
            ...(r.nextInt(2) ? { rangeEnd: bytes() } : {}),
            ...(r.nextInt(2) ? { prevKv: r.nextInt(2) === 1 } : {}),
          }) as const,
      ])();
      const cmd: KvCommand = {
        op,
        ...(r.nextInt(2) ? { timeMs: num() } : {}),
        ...(r.nextInt(2)
          ? {
              session: {
                clientId: pick(["", "c", "ü-client", "x".repeat(200)]),
                sequence: num(),
                ...(r.nextInt(2) ? { firstIncomplete: num() } : {}),
              },
            }
          : {}),
      };
      expect(encodeKvCommand(cmd), `seed ${seed}, command ${i}`).toEqual(
        encodeKvCommandWithProtobuf(cmd),
      );
    }
    // Numbers the fast path does not write (negative, fractional) go to protobuf-es, which refuses.
    const odd: KvCommand = { op: { type: "put", key: utf8("k"), value: EMPTY_VALUE, lease: -1 } };
    expect(() => encodeKvCommand(odd)).toThrow(/invalid uint64/);
  });

  it("refuses integers above 2^53 - 1 instead of rounding them", () => {
    const msg = create(pb.KvCommandSchema, {
      operation: { case: "put", value: { key: utf8("k"), lease: 2n ** 60n } },
    });
    let err: unknown;
    try {
      decodeKvCommand(toBinary(pb.KvCommandSchema, msg));
    } catch (e) {
      err = e;
    }
    expect(isKvError(err, "invalid-argument")).toBe(true);
    expect(() => decodeKvCommand(Uint8Array.of(0x52, 0x05, 0x0a))).toThrow(/cannot decode/);
  });

  it("round-trips every response", () => {
    const kv: KeyValue = {
      key: utf8("k"),
      createRevision: 1,
      modRevision: 2,
      version: 2,
      value: utf8("v"),
      lease: 0,
    };
    const responses: KvResponse[] = [
      { type: "put", revision: 3, prevKv: kv },
      { type: "put", revision: 3 },
      { type: "delete-range", revision: 4, deleted: 1, prevKvs: [kv] },
      {
        type: "txn",
        revision: 5,
        succeeded: true,
        responses: [
          { type: "range", revision: 5, kvs: [kv], more: true, count: 7 },
          { type: "put", revision: 5 },
          { type: "delete-range", revision: 5, deleted: 0, prevKvs: [] },
          { type: "txn", revision: 5, succeeded: false, responses: [] },
        ],
      },
      { type: "compaction", revision: 5 },
      { type: "lease-grant", revision: 5, id: 9, ttl: 10 },
      { type: "lease-revoke", revision: 6 },
      { type: "lease-keep-alive", revision: 6, id: 9, ttl: 10 },
      { type: "lease-expire", revision: 7, expired: [9, 10] },
      { type: "put-with-ttl", revision: 8, lease: 11, prevKv: kv },
      { type: "noop", revision: 8 },
      { type: "error", revision: 8, code: "session-answer-discarded", message: "gone" },
    ];
    for (const r of responses) expect(decodeKvResponse(encodeKvResponse(r))).toEqual(r);
  });

  it("session records: the hand-written encoder writes what protobuf-es writes", () => {
    const zeroKv: KeyValue = {
      key: EMPTY_VALUE,
      createRevision: 0,
      modRevision: 0,
      version: 0,
      value: EMPTY_VALUE,
      lease: 0,
    };
    const answers: (() => KvResponse)[] = [
      () => ({ type: "put", revision: randNum() }),
      () => ({ type: "put", revision: randNum(), prevKv: randKv() }),
      () => ({
        type: "delete-range",
        revision: randNum(),
        deleted: randNum(),
        prevKvs: Array.from({ length: rng.nextInt(3) }, randKv),
      }),
      // Not written by hand: protobuf-es writes the record, and the result is the same.
      () => ({ type: "noop", revision: randNum() }),
      () => ({ type: "lease-grant", revision: randNum(), id: randNum(), ttl: 10 }),
      () => ({ type: "error", revision: 3, code: "lease-not-found", message: "x" }),
      // A previous version whose encoding is empty is still written (a tag and a zero length).
      () => ({ type: "put", revision: 2, prevKv: zeroKv }),
    ];
    for (let i = 0; i < 500; i++) {
      const rec: SessionRecord = {
        clientId: ["", "c", "client-ü-7f3a", "x".repeat(200)][rng.nextInt(4)] as string,
        floor: randNum(),
        lastSeenMs: randNum(),
        answers: Array.from({ length: rng.nextInt(4) }, () => ({
          sequence: randNum(),
          response: (answers[rng.nextInt(answers.length)] as () => KvResponse)(),
        })),
      };
      const bytes = encodeSessionRecord(rec);
      expect(bytes, `record ${i}`).toEqual(encodeSessionRecordWithProtobuf(rec));
      expect(decodeSessionRecord(bytes)).toEqual(rec);
    }
    // A number protobuf-es refuses is refused, not written by hand.
    const odd: SessionRecord = { clientId: "c", floor: -1, lastSeenMs: 0, answers: [] };
    expect(() => encodeSessionRecord(odd)).toThrow(/invalid uint64/);
  });
});

describe("state meta records", () => {
  it("are written by hand exactly as protobuf-es writes them, and read back", () => {
    for (let i = 0; i < 500; i++) {
      const meta = {
        appliedIndex: randNum(),
        revision: randNum(),
        compactRevision: randNum(),
        logTimeMs: randNum(),
      };
      const bytes = encodeMeta(meta);
      expect(bytes, `meta ${i}`).toEqual(encodeMetaWithProtobuf(meta));
      expect(decodeMeta(bytes, "test")).toEqual(meta);
    }
    // A number protobuf-es refuses is refused, not written by hand.
    const odd = { appliedIndex: 1, revision: -1, compactRevision: 0, logTimeMs: 0 };
    expect(() => encodeMeta(odd)).toThrow(/invalid uint64/);
  });
});

describe("history keys", () => {
  it("sort by user key, then revision, even with NUL bytes and prefixes", () => {
    const items = Array.from({ length: 400 }, () => ({ key: randBytes(4), rev: randNum() }));
    const byHist = [...items].sort((a, b) =>
      compareBytes(histKey(a.key, a.rev), histKey(b.key, b.rev)),
    );
    const byPair = [...items].sort((a, b) => compareBytes(a.key, b.key) || a.rev - b.rev);
    expect(byHist).toEqual(byPair);
    for (const it of items)
      expect(decodeHistKey(histKey(it.key, it.rev))).toEqual({ key: it.key, revision: it.rev });
  });
});

describe("crc32c", () => {
  it("matches the standard check value and continues across chunks", () => {
    const data = utf8("123456789");
    expect(crc32c(data)).toBe(0xe3069283);
    expect(crc32c(data.subarray(4), crc32c(data.subarray(0, 4)))).toBe(0xe3069283);
    const big = randBytes(10_000);
    expect(crc32c(big.subarray(5000), crc32c(big.subarray(0, 5000)))).toBe(crc32c(big));
  });
});

describe("snapshot frames decode with protobuf-es too", () => {
  it("a records frame is a KvSnapshotFrame", async () => {
    const { openMemoryKv } = await import("./memory/memory-kv.js");
    const sm = openMemoryKv();
    sm.apply(1, { op: { type: "put", key: utf8("a"), value: utf8("1") } });
    sm.apply(2, { op: { type: "lease-grant", ttl: 5, id: 4 } });
    const chunks = [...sm.snapshot()];
    // chunk 0: magic + header frame; chunk 1: records; chunk 2: footer.
    const recordsFrame = (chunks[1] as Uint8Array).subarray(8);
    const frame = fromBinary(pb.KvSnapshotFrameSchema, recordsFrame);
    expect(frame.frame.case).toBe("records");
    const records = frame.frame.value as pb.KvSnapshotRecords;
    expect(records.live.map((kv) => kv.key)).toEqual([utf8("a")]);
    expect(records.leases.map((l) => l.id)).toEqual([4n]);
  });
});
