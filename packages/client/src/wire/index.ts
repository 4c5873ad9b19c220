// @d-engine/client/wire: the generated dengine.api.v1 messages <-> the client API's types, and
// typed errors <-> Connect errors. Used by the network client and by the server's handlers
// (@d-engine/transport), so both sides convert and validate the same way; and the framing that
// the streams written by hand on node:http2 share (envelopes.ts, async-queue.ts). Browser-safe.
export * from "./async-queue.js";
export * from "./cluster.js";
export * from "./envelopes.js";
export * from "./errors.js";
export * from "./kv.js";
export * from "./lease.js";
export * from "./numbers.js";
export * from "./proto-cursor.js";
export * from "./range-txn.js";
export * from "./values.js";
export * from "./watch.js";
