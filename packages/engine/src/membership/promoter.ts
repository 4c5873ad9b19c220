// The automatic promotion rule for learners. A learner is ready when it is not read-only, the
// leader heard from it recently, and its match index is within `maxLagEntries` of the leader's
// last index. The number of voters stays odd (an even count tolerates no more failures than the
// odd count below it, and needs a larger quorum):
//   - voters + 1 odd (an even number of voters now): promote one ready learner;
//   - voters + 1 even: wait until two learners are ready, and promote both in one joint-consensus
//     change (the core enters and leaves the joint configuration by itself).
// Nothing is proposed while a membership change is pending or the configuration is joint.
import type { ConfState, ProgressStatus } from "@d-engine/core";

export interface PromotionInput {
  readonly confState: ConfState;
  readonly progress: ReadonlyMap<number, ProgressStatus>;
  readonly lastIndex: number;
  readonly maxLagEntries: number;
  readonly isReadOnly: (id: number) => boolean;
}

/** The learners to promote now (zero, one or two), lowest ids first. */
export function choosePromotions(p: PromotionInput): number[] {
  if (p.confState.votersOutgoing.length > 0 || p.confState.learnersNext.length > 0) return [];
  const ready = [...p.confState.learners]
    .sort((a, b) => a - b)
    .filter((id) => {
      const pr = p.progress.get(id);
      return (
        pr?.recentActive === true && !p.isReadOnly(id) && pr.match + p.maxLagEntries >= p.lastIndex
      );
    });
  const voters = p.confState.voters.length;
  if ((voters + 1) % 2 === 1) return ready.slice(0, 1);
  return ready.length >= 2 ? ready.slice(0, 2) : [];
}
