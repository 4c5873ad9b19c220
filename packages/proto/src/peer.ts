// Node-to-node traffic (dengine.peer.v1): Raft message streams and snapshot transfer.
export * from "./gen/dengine/peer/v1/peer_pb.js";
