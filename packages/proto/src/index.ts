// The generated wire types (dengine.v1). The code under ./gen is produced by
// `pnpm run proto:generate` from proto/dengine/v1/*.proto; never edit it by hand.
export * from "./gen/dengine/v1/kv_pb.js";
export * from "./gen/dengine/v1/raft_pb.js";
