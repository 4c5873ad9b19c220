// The node's API is the client API (DEngineClient) served by this node. A server passes the
// caller's write session through CallOptions.session (exactly-once retries).
import type { CallOptions, DEngineClient, WriteSession } from "@d-engine/client";

export type { WriteSession };

export type SessionOption = Pick<CallOptions, "session">;

/** DEngineClient served by one node (RaftNode.api). */
export interface NodeApi extends DEngineClient {}
