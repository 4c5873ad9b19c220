// Applies membership changes to a tracker configuration, producing a new configuration and
// progress map (the inputs are never modified). Either one voter changes at a time ("simple"),
// or the change goes through a joint configuration in which old and new voters must both agree.
import { Progress } from "../tracker/progress.js";
import type { ProgressMap, TrackerConfig } from "../tracker/tracker.js";
import { type ConfChangeSingle, ConfChangeType, type NodeId } from "../types.js";

export class ConfChangeError extends Error {
  override name = "ConfChangeError";
}

/** A configuration being edited: mutable copies of the tracker's sets. */
interface MutableConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

export interface ChangeResult {
  readonly config: TrackerConfig;
  readonly progress: ProgressMap;
}

export class Changer {
  constructor(
    private readonly config: TrackerConfig,
    private readonly progress: ProgressMap,
    /** The leader's last log index: new members start replication from here. */
    private readonly lastIndex: number,
    private readonly maxInflight: number,
    private readonly maxInflightBytes: number,
  ) {}

  /** Enters a joint configuration: the current voters become the outgoing half. */
  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.checkAndCopy();
    if (cfg.outgoing.size > 0) throw new ConfChangeError("config is already joint");
    if (cfg.incoming.size === 0) {
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    cfg.outgoing = new Set(cfg.incoming);
    this.apply(cfg, prs, changes);
    cfg.autoLeave = autoLeave;
    return checkAndReturn(cfg, prs);
  }

  /** Leaves a joint configuration: the outgoing half is dropped, learnersNext become learners. */
  leaveJoint(): ChangeResult {
    const { cfg, prs } = this.checkAndCopy();
    if (cfg.outgoing.size === 0) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of cfg.learnersNext) {
      cfg.learners.add(id);
      (prs.get(id) as Progress).isLearner = true;
    }
    cfg.learnersNext = new Set();
    for (const id of cfg.outgoing) {
      if (!cfg.incoming.has(id) && !cfg.learners.has(id)) prs.delete(id);
    }
    cfg.outgoing = new Set();
    cfg.autoLeave = false;
    return checkAndReturn(cfg, prs);
  }

  /** Applies changes that alter at most one voter, without a joint configuration. */
  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const { cfg, prs } = this.checkAndCopy();
    if (cfg.outgoing.size > 0) {
      throw new ConfChangeError("can't apply simple config change in joint config");
    }
    this.apply(cfg, prs, changes);
    const changed = symmetricDifference(this.config.voters.incoming, cfg.incoming);
    if (changed > 1) {
      throw new ConfChangeError("more than one voter changed without entering joint config");
    }
    return checkAndReturn(cfg, prs);
  }

  private apply(cfg: MutableConfig, prs: ProgressMap, changes: readonly ConfChangeSingle[]): void {
    for (const cc of changes) {
      if (cc.nodeId === 0) continue; // etcd compatibility: id 0 is ignored.
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.AddLearner:
          this.makeLearner(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          remove(cfg, prs, cc.nodeId);
          break;
        default:
          throw new ConfChangeError(`unknown conf change type ${String(cc.type)}`);
      }
    }
    if (cfg.incoming.size === 0) throw new ConfChangeError("removed all voters");
  }

  private makeVoter(cfg: MutableConfig, prs: ProgressMap, id: NodeId): void {
    const pr = prs.get(id);
    if (!pr) {
      this.initProgress(cfg, prs, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    cfg.incoming.add(id);
  }

  private makeLearner(cfg: MutableConfig, prs: ProgressMap, id: NodeId): void {
    const pr = prs.get(id);
    if (!pr) {
      this.initProgress(cfg, prs, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Remove any voter role, keeping the progress.
    remove(cfg, prs, id);
    prs.set(id, pr);
    // A voter of the outgoing half keeps voting there until the joint state is left.
    if (cfg.outgoing.has(id)) {
      cfg.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      cfg.learners.add(id);
    }
  }

  private initProgress(cfg: MutableConfig, prs: ProgressMap, id: NodeId, isLearner: boolean) {
    if (isLearner) cfg.learners.add(id);
    else cfg.incoming.add(id);
    prs.set(
      id,
      new Progress({
        // Start optimistically at the leader's last index; a probe backs off if needed.
        next: Math.max(this.lastIndex, 1),
        match: 0,
        maxInflight: this.maxInflight,
        maxInflightBytes: this.maxInflightBytes,
        isLearner,
        // A new member counts as active so check-quorum does not depose the leader at once.
        recentActive: true,
      }),
    );
  }

  private checkAndCopy(): { cfg: MutableConfig; prs: ProgressMap } {
    const cfg: MutableConfig = {
      incoming: new Set(this.config.voters.incoming),
      outgoing: new Set(this.config.voters.outgoing),
      learners: new Set(this.config.learners),
      learnersNext: new Set(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
    const prs: ProgressMap = new Map();
    for (const [id, pr] of this.progress) prs.set(id, pr.clone());
    checkInvariants(cfg, prs);
    return { cfg, prs };
  }
}

function remove(cfg: MutableConfig, prs: ProgressMap, id: NodeId): void {
  if (!prs.has(id)) return;
  cfg.incoming.delete(id);
  cfg.learners.delete(id);
  cfg.learnersNext.delete(id);
  // Keep the progress while the node still votes in the outgoing half.
  if (!cfg.outgoing.has(id)) prs.delete(id);
}

function symmetricDifference(a: ReadonlySet<NodeId>, b: ReadonlySet<NodeId>): number {
  let n = 0;
  for (const id of a) if (!b.has(id)) n++;
  for (const id of b) if (!a.has(id)) n++;
  return n;
}

function checkAndReturn(cfg: MutableConfig, prs: ProgressMap): ChangeResult {
  checkInvariants(cfg, prs);
  return {
    config: {
      voters: { incoming: cfg.incoming, outgoing: cfg.outgoing },
      learners: cfg.learners,
      learnersNext: cfg.learnersNext,
      autoLeave: cfg.autoLeave,
    },
    progress: prs,
  };
}

/** The configuration invariants; a violation is a bug, reported with what broke. */
function checkInvariants(cfg: MutableConfig, prs: ProgressMap): void {
  for (const set of [cfg.incoming, cfg.outgoing, cfg.learners, cfg.learnersNext]) {
    for (const id of set) {
      if (!prs.has(id)) throw new ConfChangeError(`no progress for ${id}`);
    }
  }
  for (const id of cfg.learnersNext) {
    if (!cfg.outgoing.has(id)) throw new ConfChangeError(`${id} is in LearnersNext, not outgoing`);
    if (prs.get(id)?.isLearner) {
      throw new ConfChangeError(`${id} is in LearnersNext, but is already marked as learner`);
    }
  }
  for (const id of cfg.learners) {
    if (cfg.outgoing.has(id)) throw new ConfChangeError(`${id} is in Learners and outgoing`);
    if (cfg.incoming.has(id)) throw new ConfChangeError(`${id} is in Learners and incoming`);
    if (!prs.get(id)?.isLearner) throw new ConfChangeError(`${id} is learner, but not marked so`);
  }
  if (cfg.outgoing.size === 0) {
    if (cfg.learnersNext.size > 0)
      throw new ConfChangeError("LearnersNext must be empty when not joint");
    if (cfg.autoLeave) throw new ConfChangeError("AutoLeave must be false when not joint");
  }
}
