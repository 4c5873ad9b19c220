// The client-facing services (dengine.api.v1): key-value, cluster and maintenance, with the
// error detail every failed call carries. Browser-safe: generated code only.
export * from "./gen/dengine/api/v1/cluster_pb.js";
export * from "./gen/dengine/api/v1/common_pb.js";
export * from "./gen/dengine/api/v1/kv_pb.js";
export * from "./gen/dengine/api/v1/lease_pb.js";
export * from "./gen/dengine/api/v1/maintenance_pb.js";
export * from "./gen/dengine/api/v1/watch_pb.js";
