// The protobuf wire primitives alone (varints, field sizes, a field reader, CodecError), without
// the Raft codecs and their dependency on @d-engine/core: what the client's hand-written Pipeline
// codec builds on (@d-engine/client's wire/proto-cursor.ts), in Node and in browsers.
export * from "./raft-codec/errors.js";
export * from "./raft-codec/varint.js";
