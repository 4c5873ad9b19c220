// The leader promotes caught-up learners by itself (the rule is in promoter.ts), checked on each
// tick, one membership change at a time.
import {
  type ConfChange,
  ConfChangeTransition,
  ConfChangeType,
  confChange,
  EMPTY_BYTES,
  type RawNode,
} from "@d-engine/core";
import type { EngineLogger } from "../logger.js";
import type { Membership } from "./membership.js";
import { choosePromotions } from "./promoter.js";

export class AutoPromoter {
  private promoting = false;

  constructor(
    private readonly raw: RawNode,
    private readonly membership: Membership,
    private readonly maxLagEntries: number,
    private readonly propose: (cc: ConfChange) => Promise<void>,
    private readonly logger: EngineLogger,
  ) {}

  onTick(isLeader: boolean): void {
    if (this.promoting || !isLeader) return;
    const r = this.raw.raft;
    if (r.pendingConfIndex > r.log.applied || this.membership.confState.learners.length === 0) {
      return;
    }
    const st = this.raw.status();
    if (!st.progress) return;
    const ids = choosePromotions({
      confState: this.membership.confState,
      progress: st.progress,
      lastIndex: st.lastIndex,
      maxLagEntries: this.maxLagEntries,
      isReadOnly: (id) => this.membership.book.get(id)?.readOnly ?? false,
    });
    if (ids.length === 0) return;
    // Two at once go through a joint configuration, which the core leaves by itself.
    const cc: ConfChange =
      ids.length === 1
        ? confChange.addNode(ids[0] as number)
        : {
            transition: ConfChangeTransition.Auto,
            changes: ids.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId })),
            context: EMPTY_BYTES,
          };
    this.promoting = true;
    this.logger.info(`promoting learner(s) ${ids.join(", ")}: caught up`);
    this.propose(cc)
      .catch((e: unknown) => this.logger.debug(`promotion not applied: ${(e as Error).message}`))
      .finally(() => {
        this.promoting = false;
      });
  }
}
