// Three EmbeddedEngines in the test process over a MemoryNetwork, started together and returned
// once every node knows a leader: the embedded-client tests' common setup.
import type { DEngineClient } from "@d-engine/client";
import { MemoryNetwork } from "@d-engine/transport";
import { EmbeddedEngine } from "../embedded/embedded-engine.js";
import type { EmbeddedOptions } from "../options.js";
import { addressOf, FAST_RAFT } from "./cluster.js";
import { waitFor } from "./wait.js";

export interface TrioOptions {
  readonly clusterId: string;
  /** Node n's Raft seed is seedBase + n. */
  readonly seedBase: number;
  /** Followers forward writes to the leader's in-process API (default true). */
  readonly forward?: boolean;
  /** Further options for every node. */
  readonly extra?: Partial<EmbeddedOptions>;
}

export async function startEmbeddedTrio(o: TrioOptions): Promise<EmbeddedEngine[]> {
  const net = new MemoryNetwork();
  const members = [1, 2, 3].map((id) => ({ id, address: addressOf(id) }));
  const byId = new Map<number, EmbeddedEngine>();
  const engines = await Promise.all(
    members.map((m) =>
      EmbeddedEngine.start({
        nodeId: m.id,
        clusterId: o.clusterId,
        address: m.address,
        initialMembers: members,
        raft: { ...FAST_RAFT, seed: o.seedBase + m.id },
        ...o.extra,
        peerTransport: (h) => net.connect(m.id, h, { onUnreachable: (to) => h.onUnreachable(to) }),
        ...(o.forward === false
          ? {}
          : { forwardTo: (leader): DEngineClient | undefined => byId.get(leader.id)?.node.api }),
      }),
    ),
  );
  for (const e of engines) byId.set(e.node.id, e);
  try {
    await waitFor(() => engines.every((e) => e.node.leader().id !== 0), "a leader known to all");
  } catch (e) {
    await Promise.allSettled(engines.map((n) => n.stop({ transferLeadership: false })));
    throw e;
  }
  return engines;
}
