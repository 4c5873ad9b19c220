// Rebuilds a tracker configuration from a ConfState (after a restart or a snapshot) by replaying
// it as a sequence of changes, so the same checks guard it.
import type { ProgressMap, TrackerConfig } from "../tracker/tracker.js";
import { type ConfChangeSingle, ConfChangeType, type ConfState } from "../types.js";
import { type ChangeResult, Changer } from "./changer.js";

export function restoreConfig(
  cs: ConfState,
  lastIndex: number,
  maxInflight: number,
  maxInflightBytes: number,
  start: { config: TrackerConfig; progress: ProgressMap },
): ChangeResult {
  const add = (type: ConfChangeType) => (nodeId: number) => ({ type, nodeId });
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map(add(ConfChangeType.AddNode));
  // From the outgoing config, remove the outgoing voters and add the incoming ones; learners
  // that are in LearnersNext are added as learners while still outgoing voters.
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map(add(ConfChangeType.RemoveNode)),
    ...cs.voters.map(add(ConfChangeType.AddNode)),
    ...cs.learners.map(add(ConfChangeType.AddLearner)),
    ...cs.learnersNext.map(add(ConfChangeType.AddLearner)),
  ];
  let state: ChangeResult = start;
  const changer = () =>
    new Changer(state.config, state.progress, lastIndex, maxInflight, maxInflightBytes);
  if (outgoing.length === 0) {
    for (const cc of incoming) state = changer().simple([cc]);
  } else {
    for (const cc of outgoing) state = changer().simple([cc]);
    state = changer().enterJoint(cs.autoLeave, incoming);
  }
  return state;
}
