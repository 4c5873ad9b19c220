// @d-engine/transport: how nodes talk to each other and how clients reach a node.
export type * from "./peer/types.js";
