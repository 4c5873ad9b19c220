import { describe, expect, it } from "vitest";
import { decodeEnvelope, encodeEnvelope, SnapshotEnvelopeError } from "./envelope.js";

describe("snapshot envelope", () => {
  it("round-trips the member list and the KV bytes", () => {
    const members = [
      { id: 1, address: "a:1", clientAddress: "a:2", readOnly: false },
      { id: 3, address: "c:1", clientAddress: "c:1", readOnly: true },
    ];
    const data = encodeEnvelope(members, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    const back = decodeEnvelope(data, "test");
    expect(back.members).toEqual(members);
    expect([...back.kv]).toEqual([1, 2, 3]);
  });

  it("refuses data that is not an envelope, naming where it came from", () => {
    expect(() => decodeEnvelope(new Uint8Array(20), "snapshot at index 7")).toThrow(
      /snapshot at index 7: not an engine snapshot/,
    );
    const good = encodeEnvelope([], []);
    const cut = good.subarray(0, good.length - 2);
    expect(() => decodeEnvelope(cut, "x")).toThrow(SnapshotEnvelopeError);
  });
});
