// The hello that opens every peer stream: which cluster the caller belongs to, who it is, and
// whom it believes it is talking to. A node of another cluster (a copied config, a reused port)
// or a caller with a stale idea of who lives at this address is refused with an error that names
// both sides, so an operator sees the mix-up instead of a silently split cluster.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { NodeId } from "@d-engine/core";
import { type PeerHello, PeerHelloSchema } from "@d-engine/proto/peer";
import type { TransportLogger } from "../log.js";
import type { PeerIdentity } from "./types.js";

export interface CheckedHello {
  readonly from: NodeId;
  readonly fromAddress: string;
}

export function makeHello(identity: PeerIdentity, to: NodeId): PeerHello {
  return create(PeerHelloSchema, {
    clusterId: identity.clusterId,
    from: BigInt(identity.nodeId),
    to: BigInt(to),
    fromAddress: identity.address,
  });
}

/** Checks a hello against this node's identity; throws (and logs) a ConnectError if it is wrong. */
export function checkHello(
  identity: PeerIdentity,
  hello: PeerHello | undefined,
  stream: string,
  logger: TransportLogger,
): CheckedHello {
  const refuse = (code: Code, reason: string, fields: Record<string, unknown>): never => {
    const message = `peer ${stream} stream refused: ${reason}`;
    logger.warn({ stream, ...fields }, message);
    throw new ConnectError(message, code);
  };
  if (!hello) {
    return refuse(Code.InvalidArgument, "the first frame carries no hello", {});
  }
  const from = hello.from;
  const to = hello.to;
  const fields = {
    callerClusterId: hello.clusterId,
    callerNodeId: String(from),
    callerAddress: hello.fromAddress,
    clusterId: identity.clusterId,
    nodeId: identity.nodeId,
  };
  if (hello.clusterId !== identity.clusterId) {
    refuse(
      Code.FailedPrecondition,
      `the caller (node ${from} at ${hello.fromAddress || "an unknown address"}) is in cluster ` +
        `${JSON.stringify(hello.clusterId)}, this node is in cluster ${JSON.stringify(identity.clusterId)}`,
      fields,
    );
  }
  if (to !== BigInt(identity.nodeId)) {
    refuse(
      Code.FailedPrecondition,
      `the caller (node ${from} at ${hello.fromAddress || "an unknown address"}) expected node ` +
        `${to}, this is node ${identity.nodeId} of cluster ${JSON.stringify(identity.clusterId)}`,
      fields,
    );
  }
  if (from === 0n || from > BigInt(Number.MAX_SAFE_INTEGER)) {
    refuse(
      Code.InvalidArgument,
      `the caller's node id ${from} is not a positive safe integer`,
      fields,
    );
  }
  if (from === BigInt(identity.nodeId)) {
    refuse(
      Code.FailedPrecondition,
      `the caller claims this node's own id ${identity.nodeId} (two nodes configured with one id?)`,
      fields,
    );
  }
  return { from: Number(from), fromAddress: hello.fromAddress };
}
