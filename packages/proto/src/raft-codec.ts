// Hand-written codecs between the core's types and their dengine.v1 encodings, shared by the
// storage (log records, snapshot metadata) and the transport (peer messages): varints, a field
// reader, entries, conf states and snapshot metadata. Not generated; the generated schemas in
// ./gen stay the source of truth and the tests compare byte for byte with protobuf-es.
export * from "./raft-codec/entry.js";
export * from "./raft-codec/errors.js";
export * from "./raft-codec/numbers.js";
export * from "./raft-codec/raft-types.js";
export * from "./raft-codec/varint.js";
