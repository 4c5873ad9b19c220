import { ConfChangeTransition, ConfChangeType, confChange } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { AddressBook, decodeMemberContext, encodeMemberContext } from "./address-book.js";

describe("AddressBook", () => {
  it("learns addresses from conf change contexts; promotion keeps them and ends read-only", () => {
    const b = new AddressBook();
    b.apply(confChange.addNode(1, encodeMemberContext({ address: "h1:1" })));
    b.apply(
      confChange.addLearner(
        2,
        encodeMemberContext({ address: "h2:1", clientAddress: "h2:2", readOnly: true }),
      ),
    );
    expect(b.get(2)).toEqual({ id: 2, address: "h2:1", clientAddress: "h2:2", readOnly: true });
    b.apply(confChange.addNode(2));
    expect(b.get(2)).toEqual({ id: 2, address: "h2:1", clientAddress: "h2:2", readOnly: false });
    expect(b.get(1)?.clientAddress).toBe("h1:1");
    b.apply(confChange.removeNode(1));
    expect(b.list().map((r) => r.id)).toEqual([2]);
  });

  it("a joint change applies the same context to every member it adds", () => {
    const b = new AddressBook();
    b.apply({
      transition: ConfChangeTransition.Auto,
      changes: [
        { type: ConfChangeType.AddNode, nodeId: 4 },
        { type: ConfChangeType.AddNode, nodeId: 5 },
      ],
      context: new Uint8Array(0),
    });
    expect(b.list().map((r) => [r.id, r.address])).toEqual([
      [4, ""],
      [5, ""],
    ]);
  });

  it("ignores contexts that are not its JSON", () => {
    expect(decodeMemberContext(new Uint8Array([1, 2, 3]))).toEqual({});
    expect(decodeMemberContext(new TextEncoder().encode("[1]"))).toEqual({});
    expect(decodeMemberContext(new TextEncoder().encode('{"address":5}'))).toEqual({});
  });
});
