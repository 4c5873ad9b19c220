import { create, toBinary } from "@bufbuild/protobuf";
import { EMPTY_CONF_STATE, type Entry, EntryType, seededRng } from "@d-engine/core";
import { EntrySchema, HardStateSchema } from "@d-engine/proto";
import { describe, expect, it } from "vitest";
import {
  decodeEntry,
  decodeHardState,
  decodeSnapshotMetadata,
  encodeEntry,
  encodeHardState,
  encodeSnapshotMetadata,
  entryEncodedSize,
  toSafeNumber,
} from "./codec.js";
import { crc32c } from "./crc.js";

const viaProtobufEs = (e: Entry): Uint8Array =>
  toBinary(
    EntrySchema,
    create(EntrySchema, {
      term: BigInt(e.term),
      index: BigInt(e.index),
      type: e.type as number,
      data: e.data,
    }),
  );

describe("entry codec", () => {
  const seed = 7;
  it(`encodes exactly like protobuf-es and decodes back (seed ${seed})`, () => {
    const rng = seededRng(seed);
    const big = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1];
    for (let n = 0; n < 500; n++) {
      const num = (): number =>
        rng.nextInt(3) === 0 ? (big[rng.nextInt(big.length)] as number) : rng.nextInt(1_000_000);
      const data = new Uint8Array(rng.nextInt(3) === 0 ? 0 : rng.nextInt(400));
      for (let i = 0; i < data.length; i++) data[i] = rng.nextInt(256);
      const e: Entry = {
        term: num(),
        index: num(),
        type: rng.nextInt(2) === 0 ? EntryType.Normal : EntryType.ConfChange,
        data,
      };
      const mine = encodeEntry(e);
      expect(Buffer.from(mine).equals(Buffer.from(viaProtobufEs(e)))).toBe(true);
      expect(entryEncodedSize(e)).toBe(mine.length);
      expect(decodeEntry(mine)).toEqual(e);
    }
  });

  it("decodes fields in any order and skips unknown fields", () => {
    // index=5 (field 2), unknown varint field 9, data "ab" (field 4), unknown fixed32 field 10,
    // term=3 (field 1), unknown length-delimited field 11.
    const bytes = Uint8Array.from([
      0x10, 5, 0x48, 0x96, 0x01, 0x22, 2, 97, 98, 0x55, 1, 2, 3, 4, 0x08, 3, 0x5a, 1, 0,
    ]);
    expect(decodeEntry(bytes)).toEqual({
      term: 3,
      index: 5,
      type: EntryType.Normal,
      data: Uint8Array.from([97, 98]),
    });
  });

  it("rejects malformed bytes with a reason", () => {
    expect(() => decodeEntry(Uint8Array.from([0x08]))).toThrow(/truncated varint/);
    expect(() => decodeEntry(Uint8Array.from([0x22, 5, 1]))).toThrow(/runs past/);
    expect(() => decodeEntry(Uint8Array.from([0x18, 7]))).toThrow(/unknown entry type 7/);
    expect(() => decodeEntry(Uint8Array.from([0x0b]))).toThrow(/wire type 3/);
  });

  it("returns data that does not share memory with the input", () => {
    const bytes = encodeEntry({ term: 1, index: 1, type: 0, data: Uint8Array.from([1, 2, 3]) });
    const e = decodeEntry(Buffer.from(bytes));
    bytes.fill(0);
    expect(e.data).toEqual(Uint8Array.from([1, 2, 3]));
  });
});

describe("hard state codec", () => {
  const seed = 11;
  it(`encodes exactly like protobuf-es and decodes back (seed ${seed})`, () => {
    const rng = seededRng(seed);
    const big = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1];
    const num = (): number =>
      rng.nextInt(2) === 0 ? (big[rng.nextInt(big.length)] as number) : rng.nextInt(1_000_000);
    for (let n = 0; n < 500; n++) {
      const hs = { term: num(), vote: num(), commit: num() };
      const viaProtobufEs = toBinary(
        HardStateSchema,
        create(HardStateSchema, {
          term: BigInt(hs.term),
          vote: BigInt(hs.vote),
          commit: BigInt(hs.commit),
        }),
      );
      const mine = encodeHardState(hs);
      expect(Buffer.from(mine).equals(Buffer.from(viaProtobufEs))).toBe(true);
      expect(decodeHardState(mine)).toEqual(hs);
    }
  });

  it("refuses what a uint64 field cannot hold", () => {
    expect(() => encodeHardState({ term: -1, vote: 0, commit: 0 })).toThrow(/hard state term -1/);
    expect(() => encodeHardState({ term: 1, vote: 0.5, commit: 0 })).toThrow(/hard state vote/);
    expect(() => encodeHardState({ term: 1, vote: 0, commit: 2 ** 53 })).toThrow(
      /hard state commit/,
    );
  });
});

describe("bigint <-> number conversion", () => {
  it("round-trips hard state and snapshot metadata", () => {
    const hs = { term: 2 ** 40, vote: 3, commit: 2 ** 53 - 1 };
    expect(decodeHardState(encodeHardState(hs))).toEqual(hs);
    const meta = {
      index: 99,
      term: 7,
      confState: { ...EMPTY_CONF_STATE, voters: [1, 2], votersOutgoing: [1, 3], autoLeave: true },
    };
    expect(decodeSnapshotMetadata(encodeSnapshotMetadata(meta))).toEqual(meta);
  });

  it("refuses uint64 values beyond 2^53 - 1", () => {
    expect(toSafeNumber(2n ** 53n - 1n, "term")).toBe(2 ** 53 - 1);
    expect(() => toSafeNumber(2n ** 53n, "term")).toThrow(/term 9007199254740992/);
  });
});

describe("crc32c (@node-rs/crc32)", () => {
  it("matches the RFC 3720 test vectors and chains", () => {
    const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    const a = ascii("hello, ");
    const b = ascii("world");
    expect(crc32c(b, crc32c(a))).toBe(crc32c(ascii("hello, world")));
  });
});
