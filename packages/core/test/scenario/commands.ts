// The commands a scenario file may use, parsed from their arguments and run against the
// interaction environment. What a command shows goes to the environment's output; a command
// that shows nothing prints "ok".
//
//   log-level debug|info|none        none also mutes command output (quiet setup steps)
//   add-nodes N [voters=(1 2 3)] [learners=(4)] [index=I] [prevote=true|false]
//             [checkquorum=true|false] [lease=true] [election=10] [heartbeat=1]
//             [inflight=N] [max-msg-size=BYTES] [seed=S]
//                                    N fresh nodes with the next ids; without voters they start
//                                    empty (a node joining a running cluster)
//   campaign ID                      start an election now (pre-vote first if enabled)
//   tick ID [N]                      N ticks (default 1)
//   tick-election ID                 tick until the election (leader: check-quorum) timer fires
//   tick-heartbeat ID                heartbeatTick ticks
//   process-ready ID...              handle one Ready of each node, if it has one
//   deliver-msgs [ID...] [drop=(ID...)] [type=(App Heartbeat ...)]
//                                    deliver (or drop) the in-flight messages to those nodes
//   stabilize [ID...]                handle Readies and deliver among the nodes until quiet
//   propose ID DATA                  propose application data
//   propose-conf-change ID [v4] [l5] [r2] [transition=auto|implicit|explicit] [ctx=DATA]
//                                    v: add voter, l: add learner, r: remove; no change: leave
//                                    the joint configuration
//   transfer-leadership from=ID to=ID
//   read-index ID CTX
//   partition (1) (2 3) ...          cut every link between the groups; heal undoes all cuts
//   isolate ID / heal
//   compact ID INDEX                 snapshot the state machine at INDEX, drop the log up to it
//   restart ID                       crash (losing what no Ready handed out) and restart
//   report-unreachable ID PEER / report-snapshot ID PEER [failed=true]
//   status ID / raft-log ID / state-machine ID
import {
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type NodeId,
} from "../../src/index.js";
import { ascii as enc } from "../../src/testing/bytes.js";
import type { InteractionEnv, LogLevel, NodeOptions } from "./env.js";
import type { Arg, Command } from "./parse.js";

/** Typed access to a command's arguments; every argument must be consumed exactly once. */
class Args {
  private readonly used = new Set<Arg>();
  constructor(private readonly cmd: Command) {}

  private fail(why: string): never {
    throw new Error(`${this.cmd.name}: ${why}`);
  }

  /** The positional (bare) arguments, each a word or a parenthesized list. */
  positional(): Arg[] {
    const ps = this.cmd.args.filter((a) => a.key === undefined);
    for (const a of ps) this.used.add(a);
    return ps;
  }

  ids(): NodeId[] {
    return this.positional().flatMap((a) => a.values.map((v) => this.toInt(v)));
  }

  id(): NodeId {
    const ids = this.ids();
    if (ids.length !== 1) this.fail(`expected one node id, got ${ids.length}`);
    return ids[0] as NodeId;
  }

  raw(key: string): readonly string[] | undefined {
    const a = this.cmd.args.find((x) => x.key === key);
    if (a) this.used.add(a);
    return a?.values;
  }

  intList(key: string): NodeId[] | undefined {
    return this.raw(key)?.map((v) => this.toInt(v));
  }

  int(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (v.length !== 1) this.fail(`${key} takes one value`);
    return this.toInt(v[0] as string);
  }

  bool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (v.length !== 1 || (v[0] !== "true" && v[0] !== "false")) this.fail(`${key}=true|false`);
    return v[0] === "true";
  }

  str(key: string): string | undefined {
    const v = this.raw(key);
    if (v !== undefined && v.length !== 1) this.fail(`${key} takes one value`);
    return v?.[0];
  }

  toInt(v: string): number {
    if (!/^\d+$/.test(v)) this.fail(`not a number: ${v}`);
    return Number(v);
  }

  /** Fails on any argument the command did not read (a typo must not pass silently). */
  done(): void {
    const unused = this.cmd.args.filter((a) => !this.used.has(a));
    if (unused.length > 0) {
      const show = (a: Arg) => (a.key ? `${a.key}=` : "") + a.values.join(" ");
      this.fail(`unknown arguments: ${unused.map(show).join(", ")}`);
    }
  }
}

type Handler = (env: InteractionEnv, a: Args) => void;

const HANDLERS: Record<string, Handler> = {
  "log-level": (env, a) => {
    const [level] = a.positional().flatMap((x) => x.values);
    if (level !== "debug" && level !== "info" && level !== "none") {
      throw new Error("log-level debug|info|none");
    }
    env.logLevel = level as LogLevel;
  },
  "add-nodes": (env, a) => {
    const [count] = a.ids();
    const opts: NodeOptions = {
      electionTick: a.int("election") ?? 10,
      heartbeatTick: a.int("heartbeat") ?? 1,
      preVote: a.bool("prevote") ?? true,
      checkQuorum: a.bool("checkquorum") ?? true,
      lease: a.bool("lease") ?? false,
      seed: a.int("seed") ?? 1,
      ...opt("maxInflightMsgs", a.int("inflight")),
      ...opt("maxSizePerMsg", a.int("max-msg-size")),
    };
    env.addNodes(
      count ?? 1,
      a.intList("voters") ?? [],
      a.intList("learners") ?? [],
      a.int("index") ?? 0,
      opts,
    );
  },
  campaign: (env, a) => {
    const id = a.id();
    env.intent(() => env.node(id).raw.campaign());
  },
  tick: (env, a) => {
    const [id, n] = a.ids();
    env.tick(id as NodeId, n ?? 1);
  },
  "tick-election": (env, a) => env.tickElection(a.id()),
  "tick-heartbeat": (env, a) => env.tickHeartbeat(a.id()),
  "process-ready": (env, a) => {
    for (const id of a.ids()) env.processReady(id);
  },
  "deliver-msgs": (env, a) => {
    const types = a.raw("type");
    const drop = a.intList("drop") ?? [];
    env.deliver(a.ids(), false, types);
    env.deliver(drop, true, types);
  },
  stabilize: (env, a) => {
    const ids = a.ids();
    env.stabilize(ids.length > 0 ? ids : env.ids());
  },
  propose: (env, a) => {
    const [id, data] = a.positional().flatMap((x) => x.values);
    env.propose(a.toInt(id ?? ""), data ?? "");
  },
  "propose-conf-change": (env, a) => {
    const [idArg, ...rest] = a.positional().flatMap((x) => x.values);
    const changes = rest.map((c) => parseChange(c));
    const t = a.str("transition") ?? "auto";
    const transition = TRANSITIONS[t];
    if (transition === undefined) throw new Error(`transition=auto|implicit|explicit, got ${t}`);
    const ctx = a.str("ctx");
    env.proposeConfChange(a.toInt(idArg ?? ""), {
      transition,
      changes,
      context: enc(ctx ?? ""),
    });
  },
  "transfer-leadership": (env, a) => {
    const from = a.int("from");
    const to = a.int("to");
    if (from === undefined || to === undefined)
      throw new Error("transfer-leadership from=ID to=ID");
    env.intent(() => env.node(from).raw.transferLeader(to));
  },
  "read-index": (env, a) => {
    const [id, ctx] = a.positional().flatMap((x) => x.values);
    env.intent(() => env.node(a.toInt(id ?? "")).raw.readIndex(enc(ctx ?? "")));
  },
  partition: (env, a) => env.partition(a.positional().map((g) => g.values.map((v) => a.toInt(v)))),
  heal: (env) => env.heal(),
  isolate: (env, a) => env.isolate(a.id()),
  compact: (env, a) => {
    const [id, index] = a.ids();
    env.compact(id as NodeId, index as number);
  },
  restart: (env, a) => env.restart(a.id()),
  "report-unreachable": (env, a) => {
    const [id, peer] = a.ids();
    env.node(id as NodeId).raw.reportUnreachable(peer as NodeId);
  },
  "report-snapshot": (env, a) => {
    const [id, peer] = a.ids();
    const failed = a.bool("failed") ?? false;
    env.node(id as NodeId).raw.reportSnapshot(peer as NodeId, !failed);
  },
  status: (env, a) => env.status(a.id()),
  "raft-log": (env, a) => env.raftLog(a.id()),
  "state-machine": (env, a) => env.stateMachine(a.id()),
};

const TRANSITIONS: Record<string, ConfChangeTransition> = {
  auto: ConfChangeTransition.Auto,
  implicit: ConfChangeTransition.JointImplicit,
  explicit: ConfChangeTransition.JointExplicit,
};

/** "v4" adds voter 4, "l5" adds (or demotes to) learner 5, "r2" removes 2. */
function parseChange(s: string): ConfChangeSingle {
  const m = /^([vlr])(\d+)$/.exec(s);
  if (!m) throw new Error(`conf change "${s}": expected v<id>, l<id> or r<id>`);
  const type =
    m[1] === "v"
      ? ConfChangeType.AddNode
      : m[1] === "l"
        ? ConfChangeType.AddLearner
        : ConfChangeType.RemoveNode;
  return { type, nodeId: Number(m[2]) };
}

function opt<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return v === undefined ? {} : ({ [key]: v } as { [P in K]?: number });
}

/** Runs one command line against the environment. */
export function runCommand(env: InteractionEnv, cmd: Command): void {
  const handler = HANDLERS[cmd.name];
  if (!handler) throw new Error(`unknown command "${cmd.name}"`);
  const args = new Args(cmd);
  handler(env, args);
  args.done();
}
