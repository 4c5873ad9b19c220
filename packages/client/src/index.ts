// @d-engine/client: what both entries share (types, typed errors, limits, bytes). The package's
// "." export resolves to node.ts under Node and to browser.ts elsewhere; both re-export this and
// add createClient. Browser-safe: it imports only @d-engine/proto and @connectrpc/connect.
export * from "./bytes.js";
export * from "./concurrency/index.js";
export * from "./errors.js";
export * from "./lease/keeper.js";
export * from "./limits.js";
export type * from "./types.js";
