// Locks and elections over any d-engine client (network or embedded): client-side recipes on
// transactions, ranges, watches and leases.
export type * from "./client.js";
export * from "./election.js";
export * from "./errors.js";
export * from "./lock.js";
export { type QueueTicket, queuePrefix } from "./queue.js";
export * from "./session.js";
