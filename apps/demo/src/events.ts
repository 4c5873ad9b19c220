// What the demo reports, and how each report reads as one line. Kept apart from the cluster and
// the timers so the wording can be tested without either.
import type { NodeId } from "@d-engine/core";

export type DemoEvent =
  | {
      readonly kind: "start";
      readonly nodes: readonly NodeId[];
      readonly tickMs: number;
      readonly electionTick: number;
      readonly seed: number;
    }
  /** A node started a real election (after winning its pre-vote round). */
  | { readonly kind: "campaign"; readonly node: NodeId; readonly term: number }
  | { readonly kind: "leader"; readonly node: NodeId; readonly term: number }
  | { readonly kind: "step-down"; readonly node: NodeId; readonly term: number }
  /** An entry was committed; `appliedOn` nodes of `of` have applied it, not yet `lagging`. */
  | {
      readonly kind: "commit";
      readonly index: number;
      readonly term: number;
      readonly payload: string;
      readonly appliedOn: number;
      readonly of: number;
      readonly lagging: readonly NodeId[];
    }
  /** A node that had fallen behind applied entries the others applied earlier. */
  | {
      readonly kind: "catch-up";
      readonly node: NodeId;
      readonly entries: number;
      readonly from: number;
      readonly to: number;
    }
  /** The leader is cut off from the others ("killed") for `forMs`. */
  | {
      readonly kind: "isolate";
      readonly node: NodeId;
      readonly term: number;
      readonly forMs: number;
    }
  | { readonly kind: "heal"; readonly node: NodeId }
  /** The majority elected a new leader after the old one was cut off. */
  | {
      readonly kind: "failover";
      readonly from: NodeId;
      readonly to: NodeId;
      readonly term: number;
      readonly afterMs: number;
    }
  /** The client could not propose (no reachable leader, or the leader refused). */
  | { readonly kind: "client"; readonly text: string }
  | {
      readonly kind: "stopped";
      readonly committed: number;
      readonly elections: number;
      readonly failovers: number;
      readonly seconds: number;
    };

/** Wall-clock time of day with milliseconds, e.g. 14:03:07.250. */
export function timestamp(at: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const ms = String(at.getMilliseconds()).padStart(3, "0");
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${ms}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const nodeList = (ids: readonly NodeId[]) =>
  ids.length === 1 ? `node ${ids[0]}` : `nodes ${ids.join(", ")}`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The label column (fixed width so the lines line up) and the sentence for an event. */
function describe(e: DemoEvent): [string, string] {
  switch (e.kind) {
    case "start":
      return [
        "demo",
        `${e.nodes.length} nodes (${e.nodes.join(", ")}), one tick every ${e.tickMs} ms, ` +
          `election timeout ${e.electionTick}-${2 * e.electionTick - 1} ticks, seed ${e.seed}. ` +
          "Ctrl-C stops.",
      ];
    case "campaign":
      return ["election", `node ${e.node} is campaigning at term ${e.term}`];
    case "leader":
      return ["election", `node ${e.node} became leader at term ${e.term}`];
    case "step-down":
      return ["election", `node ${e.node} stepped down (was leader at term ${e.term})`];
    case "commit": {
      const where =
        e.appliedOn === e.of
          ? `applied on all ${e.of} nodes`
          : `applied on ${e.appliedOn} of ${e.of} nodes (not yet on ${nodeList(e.lagging)})`;
      return ["commit", `entry ${e.index} (term ${e.term}) "${e.payload}" committed, ${where}`];
    }
    case "catch-up":
      return [
        "catch-up",
        `node ${e.node} applied ${plural(e.entries, "missed entry", "missed entries")} ` +
          `(${e.from}..${e.to})`,
      ];
    case "isolate":
      return [
        "failover",
        `killing leader node ${e.node} (term ${e.term}): cut off from the others for ${seconds(e.forMs)}`,
      ];
    case "heal":
      return ["failover", `node ${e.node} is back: network healed`];
    case "failover":
      return [
        "failover",
        `node ${e.to} took over from node ${e.from} at term ${e.term}, ` +
          `${seconds(e.afterMs)} after node ${e.from} was cut off`,
      ];
    case "client":
      return ["client", e.text];
    case "stopped":
      return [
        "stopped",
        `${plural(e.committed, "entry", "entries")} committed, ${plural(e.elections, "election")}, ` +
          `${plural(e.failovers, "failover")} in ${e.seconds.toFixed(1)} s`,
      ];
  }
}

const LABEL_WIDTH = 9;

/** One readable line: time, what kind of event, what happened. */
export function formatEvent(e: DemoEvent, at: Date): string {
  const [label, text] = describe(e);
  // The final summary reads as a sentence ("stopped: ...") so scripts can grep for it.
  if (e.kind === "stopped") return `${timestamp(at)} ${label}: ${text}`;
  return `${timestamp(at)} ${label.padEnd(LABEL_WIDTH)} ${text}`;
}
