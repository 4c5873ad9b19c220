import { Code } from "@connectrpc/connect";
import { seededRng } from "@d-engine/proto/testing";
import { describe, expect, it } from "vitest";
import {
  END_STREAM_FLAG,
  EnvelopeReader,
  envelope,
  statusError,
  statusTrailers,
} from "./envelopes.js";

const SEED = 4_242;

describe("gRPC envelopes", () => {
  it(`reads messages back however the stream is cut (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let round = 0; round < 50; round++) {
      const bodies = Array.from({ length: 1 + rng.nextInt(6) }, () =>
        Uint8Array.from({ length: rng.nextInt(300) }, () => rng.nextInt(256)),
      );
      const wire = Buffer.concat(bodies.map(envelope));
      const reader = new EnvelopeReader(1_000);
      const got: Uint8Array[] = [];
      let pos = 0;
      while (pos < wire.length) {
        const n = 1 + rng.nextInt(Math.min(40, wire.length - pos));
        got.push(...reader.push(wire.subarray(pos, pos + n)));
        pos += n;
      }
      expect(got.map((b) => Buffer.from(b).toString("hex"))).toEqual(
        bodies.map((b) => Buffer.from(b).toString("hex")),
      );
      expect(reader.pending).toBe(0);
      // Node gives Buffers; what comes out is plain Uint8Array (decoded entries keep views).
      for (const b of got) expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype);
    }
  });

  it("holds an unfinished message as pending", () => {
    const reader = new EnvelopeReader(100);
    expect(reader.push(envelope(Uint8Array.of(1, 2, 3)).subarray(0, 6))).toEqual([]);
    expect(reader.pending).toBe(6);
  });

  it("refuses compressed and oversized messages, naming them", () => {
    const compressed = envelope(Uint8Array.of(1));
    compressed[0] = 1;
    expect(() => new EnvelopeReader(100).push(compressed)).toThrow(/compressed/);
    try {
      new EnvelopeReader(10).push(envelope(new Uint8Array(11)));
      expect.unreachable();
    } catch (e) {
      expect((e as { code: Code }).code).toBe(Code.ResourceExhausted);
      expect(String(e)).toMatch(/11 bytes is over the limit of 10/);
    }
  });
});

describe("Connect's end of stream", () => {
  const endOf = (body: Uint8Array): Uint8Array => {
    const e = envelope(body);
    e[0] = END_STREAM_FLAG;
    return e;
  };

  it("keeps the end-of-stream body apart when asked to, and refuses anything after it", () => {
    const reader = new EnvelopeReader(100, true);
    const wire = Buffer.concat([envelope(Uint8Array.of(7)), endOf(Uint8Array.of(123, 125))]);
    expect(reader.push(wire.subarray(0, 8)).map((b) => [...b])).toEqual([[7]]);
    expect(reader.push(wire.subarray(8))).toEqual([]);
    expect([...(reader.endStream ?? [])]).toEqual([123, 125]);
    expect(() => reader.push(envelope(Uint8Array.of(1)))).toThrow(/after the end of the stream/);
  });

  it("refuses an end-of-stream envelope where none is expected", () => {
    expect(() => new EnvelopeReader(100).push(endOf(Uint8Array.of(1)))).toThrow(/flags 2/);
  });
});

describe("gRPC status", () => {
  it("round-trips a code and a message with any characters", () => {
    const msg = 'cluster "c2": 100% wrong\nnext line';
    const e = statusError(statusTrailers(Code.FailedPrecondition, msg));
    expect(e?.code).toBe(Code.FailedPrecondition);
    expect(e?.rawMessage).toBe(msg);
    expect(statusError(statusTrailers(0))).toBeUndefined();
  });

  it("reads a missing or unknown status as an error", () => {
    expect(statusError({})?.code).toBe(Code.Unknown);
    expect(statusError({ "grpc-status": "99" })?.code).toBe(Code.Unknown);
    expect(statusError({ "grpc-status": "14", "grpc-message": "%E0%A4%A" })?.rawMessage).toBe(
      "%E0%A4%A",
    );
  });
});
