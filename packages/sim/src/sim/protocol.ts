// What travels between clients and nodes, and the network payload that carries it alongside Raft
// messages.
import type { Message } from "@d-engine/core";
import type { KvInput, KvOutput } from "../linearizability/history.js";
import { copyMessage } from "./network.js";

/** Clients' network addresses sit above every node id. */
export const CLIENT_ADDRESS_BASE = 1000;

export function clientAddress(clientId: number): number {
  return CLIENT_ADDRESS_BASE + clientId;
}

export interface ClientRequest {
  readonly client: number;
  readonly opId: number;
  readonly attempt: number;
  /** The write's sequence number in the client's session (0 for reads). */
  readonly seq: number;
  readonly key: string;
  readonly input: KvInput;
}

export type ClientResponse =
  | {
      readonly kind: "done";
      readonly client: number;
      readonly opId: number;
      readonly output: KvOutput;
    }
  | {
      /** Not done here; try again (at `hint` if it names a node). */
      readonly kind: "retry";
      readonly client: number;
      readonly opId: number;
      readonly attempt: number;
      readonly hint: number;
    };

export type Packet =
  | { readonly kind: "raft"; readonly msg: Message }
  | { readonly kind: "request"; readonly req: ClientRequest }
  | { readonly kind: "response"; readonly resp: ClientResponse };

export function copyPacket(p: Packet): Packet {
  switch (p.kind) {
    case "raft":
      return { kind: "raft", msg: copyMessage(p.msg) };
    case "request":
      return { kind: "request", req: { ...p.req, input: { ...p.req.input } } };
    case "response":
      return {
        kind: "response",
        resp: p.resp.kind === "done" ? { ...p.resp, output: { ...p.resp.output } } : { ...p.resp },
      };
  }
}
