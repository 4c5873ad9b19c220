// A node inside an application process, with an in-process client (embedded-client.ts).
import type { DEngineClient } from "@d-engine/client";
import type { EmbeddedOptions } from "../options.js";
import { RaftNode } from "../raft-node.js";
import { EmbeddedClient } from "./embedded-client.js";

export class EmbeddedEngine {
  /** Same API as the network client; reads in-process, writes forwarded to the leader. */
  readonly client: DEngineClient;

  private constructor(
    readonly node: RaftNode,
    opts: EmbeddedOptions,
  ) {
    this.client = new EmbeddedClient(node, opts.forwardTo, opts.requestTimeoutMs ?? 10_000);
  }

  static async start(opts: EmbeddedOptions): Promise<EmbeddedEngine> {
    return new EmbeddedEngine(await RaftNode.start(opts), opts);
  }

  /** Closes the client, then stops the node (see RaftNode.stop: it hands off leadership). */
  async stop(opts?: { transferLeadership?: boolean; timeoutMs?: number }): Promise<void> {
    await this.client.close();
    await this.node.stop(opts);
  }
}
