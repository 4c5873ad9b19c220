// @d-engine/transport: how nodes talk to each other and how clients reach a node.

export * from "./api/api-routes.js";
export * from "./log.js";
export * from "./peer/codec.js";
export * from "./peer/connect-transport.js";
export { checkHello, makeHello } from "./peer/hello.js";
export * from "./peer/memory-network.js";
export * from "./peer/peer-routes.js";
export type * from "./peer/types.js";
export * from "./server/node-server.js";
export { withMalformedAsInvalidArgument } from "./server/parse-errors.js";
