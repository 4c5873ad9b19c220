// @d-engine/client: the typed client SDK. This entry is browser-safe (it imports only
// @d-engine/proto and @connectrpc/connect).
export * from "./bytes.js";
export * from "./errors.js";
export * from "./limits.js";
export type * from "./types.js";
