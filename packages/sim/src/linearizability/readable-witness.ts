// Shrinking may drop any operation and keep a subset that still fails, but dropping a write can
// make a subset fail for a reason the full history does not have: without "put a", a read of "a"
// is unexplained, and without the delete it saw, a read of absent may be. Such a witness points
// at the wrong thing. So a subset only counts as a witness if every read in it keeps some write
// that could have produced what it read, whenever the full history had one; shrinking drops the
// reads that lost their explanation along with the writes it removes.

import type { Operation } from "./history.js";
import { checkSingleKey, type InitialState } from "./search.js";

/** The value a read depends on (null: absent), if the operation reads one. */
export function readOf(op: Operation): { value: string | null } | undefined {
  const { input, output } = op;
  if (input.op === "get" && output.kind === "value") return { value: output.value };
  // A cas that swapped saw its expected value; one with an unknown outcome did if it swapped.
  if (
    input.op === "cas" &&
    (output.kind === "unknown" || (output.kind === "swapped" && output.ok))
  ) {
    return { value: input.expect };
  }
  return undefined;
}

/** The value an operation may have written (null: deleted), if it writes. */
export function writeOf(op: Operation): { value: string | null } | undefined {
  const { input, output } = op;
  if (input.op === "put") return { value: input.value };
  if (input.op === "delete") return { value: null };
  if (input.op === "cas" && !(output.kind === "swapped" && !output.ok))
    return { value: input.value };
  return undefined;
}

function end(op: Operation): number {
  return op.output.kind === "unknown" ? Number.POSITIVE_INFINITY : op.complete;
}

/**
 * For each read, the writes that could have produced what it read: writes of that value invoked
 * before the read returned and not surely overwritten before it began (by a put or delete that
 * started after the write ended and ended before the read began), or if all were, any of them.
 * Empty when no write could, and undefined when the initial state could (absent, or anything
 * for a window that starts from any state).
 */
function possibleSources(
  history: readonly Operation[],
  initial: InitialState,
): Map<Operation, Set<Operation> | undefined> {
  // Puts and deletes known to have happened, by completion: for a read, the latest invocation
  // among those that completed before it began is the point before which writes are surely
  // overwritten.
  const overwrites = history
    .filter((op) => (op.input.op === "put" || op.input.op === "delete") && op.output.kind === "ok")
    .sort((a, b) => a.complete - b.complete);
  const latestInvoke: number[] = [];
  for (const op of overwrites) {
    latestInvoke.push(Math.max(op.invoke, latestInvoke.at(-1) ?? Number.NEGATIVE_INFINITY));
  }
  const overwrittenBefore = (read: Operation): number => {
    let lo = 0;
    let hi = overwrites.length; // count of overwrites that completed before the read began
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (overwrites[mid]!.complete < read.invoke) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? Number.NEGATIVE_INFINITY : latestInvoke[lo - 1]!;
  };

  const writers = new Map<string | null, Operation[]>();
  for (const op of history) {
    const write = writeOf(op);
    if (write === undefined) continue;
    const list = writers.get(write.value);
    if (list === undefined) writers.set(write.value, [op]);
    else list.push(op);
  }

  const sources = new Map<Operation, Set<Operation> | undefined>();
  for (const op of history) {
    const read = readOf(op);
    if (read === undefined) continue;
    const horizon = overwrittenBefore(op);
    const initialMayMatch = initial === "any" || read.value === null;
    if (initialMayMatch && horizon === Number.NEGATIVE_INFINITY) {
      sources.set(op, undefined); // the initial state may be what it saw
      continue;
    }
    const earlier = (writers.get(read.value) ?? []).filter((w) => w !== op && w.invoke <= end(op));
    const plausible = earlier.filter((w) => end(w) >= horizon);
    // When every write of the value was surely overwritten (a stale read), keep one of those:
    // the witness should show the value being written, then overwritten, then read.
    sources.set(op, new Set(plausible.length > 0 ? plausible : earlier));
  }
  return sources;
}

/**
 * A function that trims a subset of `history` to the part whose reads are explained: it drops,
 * until none is left, every read (never an operation in `keep`) that the full history could
 * explain by some write but that has none of those writes left in the subset. Reads nothing
 * could explain (a value never written) stay: they are the bug.
 */
export function explainedPart(
  history: readonly Operation[],
  initial: InitialState = "absent",
): (subset: readonly Operation[], keep?: ReadonlySet<Operation>) => Operation[] {
  const sources = possibleSources(history, initial);
  return (subset, keep) => {
    let current = subset;
    for (;;) {
      const members = new Set(current);
      const explained = current.filter((op) => {
        const candidates = sources.get(op);
        if (candidates === undefined || candidates.size === 0 || keep?.has(op)) return true;
        for (const w of candidates) if (members.has(w)) return true;
        return false;
      });
      if (explained.length === current.length) return explained;
      current = explained; // a dropped cas may have been the write another read relied on
    }
  };
}

/**
 * `witness` (not linearizable from the absent state) plus, for each read whose value no write
 * in it produces, the latest write of that value in `history` invoked before the read returned,
 * where adding it keeps the witness failing. For witnesses found in a window, whose reads may
 * have seen writes from before it: "put a; put b; get -> a" reads better than "put b; get -> a".
 */
export function withReadSources(
  witness: readonly Operation[],
  history: readonly Operation[],
  maxSteps: number,
): Operation[] {
  let result = [...witness];
  for (const op of witness) {
    const read = readOf(op);
    if (read === undefined) continue;
    if (result.some((w) => w !== op && writeOf(w)?.value === read.value)) continue;
    let source: Operation | undefined;
    for (const w of history) {
      if (w === op || w.invoke > end(op) || writeOf(w)?.value !== read.value) continue;
      if (source === undefined || w.invoke > source.invoke) source = w;
    }
    if (source === undefined || result.includes(source)) continue;
    const candidate = [...result, source];
    if (checkSingleKey(candidate, maxSteps) === "not-linearizable") result = candidate;
  }
  return result.sort((a, b) => a.invoke - b.invoke || a.id - b.id);
}
