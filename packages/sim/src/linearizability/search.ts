// The search for a linearization of one key's operations: Wing & Gong's depth-first search as
// improved by Lowe (and used by porcupine). Call and return events sit in one doubly linked list
// ordered by time (event-list.ts). The operations that may be linearized next are those whose
// call comes before the first remaining return: an operation that returned must precede every
// operation invoked after that. Linearizing one removes its call and return from the list; when
// no candidate works, the search backtracks. A memory of explored configurations
// (search-cache.ts) keeps it from refuting the same situation twice.

import { buildEventList, HEAD, NIL } from "./event-list.js";
import type { KvInput, KvOutput, Operation } from "./history.js";
import { initialKvState, type KvState, kvStep } from "./model.js";
import { ExploredConfigurations, PrefixSet } from "./search-cache.js";

export type KeyVerdict = "linearizable" | "not-linearizable" | "budget-exceeded";

/** Default bound on search steps per key, so a pathological history yields "unknown", not a hang. */
export const DEFAULT_MAX_STEPS_PER_KEY = 2_000_000;

/**
 * The register's state before the first operation: absent, as for a whole history, or "any",
 * for a window cut out of a longer one. "any" stands for every possible state at once and
 * narrows to a real one when an output reveals it; a cas that failed leaves it "any" (the state
 * is then anything but the expected value, which the search forgets). The search from "any"
 * thus explores at least what the search from every real state would: if it finds no
 * linearization, no starting state has one.
 */
export type InitialState = "absent" | "any";

const ANY = Symbol("any");
type SearchState = KvState | typeof ANY;

function step(state: SearchState, input: KvInput, output: KvOutput): SearchState | undefined {
  if (state !== ANY) return kvStep(state, input, output);
  switch (input.op) {
    case "put":
      return input.value;
    case "delete":
      return null;
    case "get":
      return output.kind === "value" ? output.value : ANY;
    case "cas":
      return output.kind === "swapped" && output.ok ? input.value : ANY;
  }
}

export interface SearchResult {
  readonly verdict: KeyVerdict;
  /**
   * The completion time of the operation the search was stuck on when it had placed the most
   * operations: where a violation, or the trouble, most likely is. Infinity if it never stuck.
   */
  readonly stuckAt: number;
}

interface Frame {
  /** Call events to try from this configuration, known outcomes first. */
  readonly candidates: readonly number[];
  tried: number;
  /** The call event linearized to reach this configuration (NIL at the root). */
  readonly via: number;
  /** The state before `via` was linearized. */
  readonly stateBefore: SearchState;
}

/**
 * Whether the operations (all on one key, validated) have a linearization. Operations with an
 * unknown output may be linearized anywhere after their invocation or not at all; the search is
 * done once every operation with a known output is placed.
 */
export function checkSingleKey(
  ops: readonly Operation[],
  maxSteps: number = DEFAULT_MAX_STEPS_PER_KEY,
  initial: InitialState = "absent",
): KeyVerdict {
  return searchSingleKey(ops, maxSteps, initial).verdict;
}

/**
 * checkSingleKey with a hint of where the search got stuck.
 *
 * Unknown outcomes make the search space explode (each may or may not have happened, anywhere),
 * so the search only looks for linearizations of a canonical shape, which exist whenever any
 * does: take a shortest one, in which
 * - no unknown operation changes nothing (a cas that fails): it could be left out;
 * - no unknown write is directly followed by a put or delete: it would be overwritten unseen;
 * - of several unknown writes that could go next with the same effect, the earliest-invoked
 *   goes first: swapping two such operations changes nothing (unknown operations never
 *   expire, and cas candidates all expect the current state). Puts and deletes are one kind,
 *   cas another: a cas could not always take a put's later place.
 */
export function searchSingleKey(
  ops: readonly Operation[],
  maxSteps: number,
  initial: InitialState,
): SearchResult {
  // A get whose answer was lost constrains nothing: drop it rather than search over it.
  // Invocation order makes the known-set prefixes of search-cache.ts long.
  const live = ops
    .filter((op) => !(op.input.op === "get" && op.output.kind === "unknown"))
    .sort((a, b) => a.invoke - b.invoke || a.id - b.id);
  const isKnown = live.map((op) => op.output.kind !== "unknown");
  const isBlindWrite = live.map((op) => op.input.op === "put" || op.input.op === "delete");
  // Each operation's index among the known ones, or among the unknown ones.
  const rank: number[] = [];
  let knownTotal = 0;
  let unknownTotal = 0;
  for (const known of isKnown) rank.push(known ? knownTotal++ : unknownTotal++);
  const done = (verdict: KeyVerdict, stuckAt = Number.POSITIVE_INFINITY): SearchResult => ({
    verdict,
    stuckAt,
  });
  if (knownTotal === 0) return done("linearizable");

  // A value no operation compares against (no get returned it, no cas expects it) behaves like
  // any other such value from then on, so states holding one are the same configuration.
  const observed = new Set<string | null>();
  for (const op of live) {
    if (op.output.kind === "value") observed.add(op.output.value);
    if (op.input.op === "cas") observed.add(op.input.expect);
  }
  const stateClass = (s: SearchState): string =>
    s === ANY ? "*" : s === null ? "" : observed.has(s) ? `=${s}` : "?";
  // What an unknown write leaves behind, for telling interchangeable ones apart.
  const writeClass = live.map((op) => {
    const { input } = op;
    if (input.op === "put") return stateClass(input.value);
    if (input.op === "cas") return `cas${stateClass(input.value)}`;
    return "";
  });

  const { next, prev, opOf, isCall, matchOf, timeOf } = buildEventList(live);
  const lift = (call: number): void => {
    next[prev[call]!] = next[call]!;
    prev[next[call]!] = prev[call]!; // a call is always followed by at least its return
    const ret = matchOf[call]!;
    next[prev[ret]!] = next[ret]!;
    if (next[ret] !== NIL) prev[next[ret]!] = prev[ret]!;
  };
  const unlift = (call: number): void => {
    const ret = matchOf[call]!;
    next[prev[ret]!] = ret;
    if (next[ret] !== NIL) prev[next[ret]!] = ret;
    next[prev[call]!] = call;
    prev[next[call]!] = call;
  };
  let firstReturn = NIL;
  // The calls before the first remaining return, minus those the canonical shape rules out.
  // Known outcomes go first: that reaches each configuration with as few unknown operations
  // linearized as possible, the version that makes the others redundant.
  const candidates = (state: SearchState, afterUnknownWrite: boolean): number[] => {
    const known: number[] = [];
    const unknown: number[] = [];
    const writeClassesTaken = new Set<string>();
    let e = next[HEAD]!;
    for (; e !== NIL && isCall[e] === 1; e = next[e]!) {
      const i = opOf[e]!;
      if (afterUnknownWrite && isBlindWrite[i]) continue;
      const { input } = live[i]!;
      if (isKnown[i]) {
        known.push(e);
      } else if (input.op === "cas" && state === ANY) {
        // Whether it swaps depends on the unknown state: try each, none is like another.
        unknown.push(e);
      } else if (input.op === "cas" && input.expect !== state) {
        // It would fail and change nothing.
      } else if (!writeClassesTaken.has(writeClass[i]!)) {
        writeClassesTaken.add(writeClass[i]!);
        unknown.push(e);
      }
    }
    firstReturn = e;
    return known.concat(unknown);
  };

  const placedKnown = new PrefixSet(knownTotal);
  const placedUnknown = new Uint32Array(Math.ceil(unknownTotal / 32));
  const flipUnknown = (r: number): void => {
    placedUnknown[r >>> 5]! ^= 1 << (r & 31);
  };
  const explored = new ExploredConfigurations();
  let state: SearchState = initial === "any" ? ANY : initialKvState;
  const stack: Frame[] = [
    { candidates: candidates(state, false), tried: 0, via: NIL, stateBefore: state },
  ];
  let stuckAt = firstReturn === NIL ? Number.POSITIVE_INFINITY : timeOf[firstReturn]!;
  let mostPlaced = 0;
  let placed = 0;
  let steps = 0;

  for (;;) {
    if (++steps > maxSteps) return done("budget-exceeded", stuckAt);
    const frame = stack[stack.length - 1]!;
    if (frame.tried === frame.candidates.length) {
      // Every candidate failed: undo the step that led here.
      stack.pop();
      if (frame.via === NIL) return done("not-linearizable", stuckAt);
      const i = opOf[frame.via]!;
      if (isKnown[i]) {
        placedKnown.delete(rank[i]!);
        placed--;
      } else {
        flipUnknown(rank[i]!);
      }
      unlift(frame.via);
      state = frame.stateBefore;
      continue;
    }
    const call = frame.candidates[frame.tried++]!;
    const i = opOf[call]!;
    const op = live[i]!;
    const after = step(state, op.input, op.output);
    if (after === undefined) continue;
    // Unknown gets are gone and failing unknown cas never tried: this is a write.
    const unknownWrite = !isKnown[i];
    if (isKnown[i]) placedKnown.add(rank[i]!);
    else flipUnknown(rank[i]!);
    const rest = unknownWrite ? `w${stateClass(after)}` : stateClass(after);
    if (!explored.visit(placedKnown, placedUnknown, rest)) {
      if (isKnown[i]) placedKnown.delete(rank[i]!);
      else flipUnknown(rank[i]!);
      continue;
    }
    if (isKnown[i] && ++placed === knownTotal) return done("linearizable");
    lift(call);
    stack.push({
      candidates: candidates(after, unknownWrite),
      tried: 0,
      via: call,
      stateBefore: state,
    });
    state = after;
    if (placed > mostPlaced && firstReturn !== NIL) {
      mostPlaced = placed;
      stuckAt = timeOf[firstReturn]!;
    }
  }
}
