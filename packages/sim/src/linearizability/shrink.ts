// Shrinks a non-linearizable history of one key to a small one that is still not linearizable,
// so a failure report shows the few operations that contradict each other instead of hundreds.
// First a short failing prefix, then greedy delta debugging: remove ever smaller chunks (halves
// first) while the rest still fails, then single operations until none can go.

import type { Operation } from "./history.js";
import { explainedPart, writeOf } from "./readable-witness.js";
import { checkSingleKey, type InitialState } from "./search.js";

/** Bounds the shrinking work; when reached, the current (still failing) subset is returned. */
export const DEFAULT_MAX_SHRINK_CHECKS = 5_000;

const byInvoke = (a: Operation, b: Operation): number => a.invoke - b.invoke || a.id - b.id;

/**
 * A locally minimal subset of `ops` (one key, known not linearizable from `initial`) that is
 * still not linearizable: removing any single operation from it makes it linearizable, or leaves a read
 * without a write that explained it (readable-witness.ts; such reads are dropped too).
 *
 * Dropping writes can still produce a witness that fails only because of what was dropped (a
 * read of absent, once the delete it saw is gone). So the result is checked against each write
 * it left out; if one makes it linearizable, that write is kept in the next round of shrinking.
 */
export function minimalViolation(
  ops: readonly Operation[],
  maxStepsPerCheck: number,
  maxChecks: number = DEFAULT_MAX_SHRINK_CHECKS,
  initial: InitialState = "absent",
): Operation[] {
  const sorted = [...ops].sort(byInvoke);
  const explained = explainedPart(ops, initial);
  let checks = 0;
  const budgetLeft = (): boolean => checks < maxChecks;
  const check = (subset: readonly Operation[]) => {
    checks++;
    return checkSingleKey(subset, maxStepsPerCheck, initial);
  };
  // The subset's explained part if that still fails. A subset whose check runs out of budget is
  // not known to fail, so it is not a witness.
  const failingPart = (
    subset: readonly Operation[],
    keep: ReadonlySet<Operation>,
  ): Operation[] | undefined => {
    const part = explained(subset, keep);
    return part.length > 0 && check(part) === "not-linearizable" ? part : undefined;
  };

  // A write left out of `witness` that makes it linearizable, if any.
  const rescuerOf = (witness: readonly Operation[]): Operation | undefined => {
    const kept = new Set(witness);
    return sorted.find(
      (op) =>
        budgetLeft() &&
        !kept.has(op) &&
        writeOf(op) !== undefined &&
        check([...witness, op].sort(byInvoke)) === "linearizable",
    );
  };

  const pinned = new Set<Operation>();
  let witness = shrink(sorted, pinned, failingPart, budgetLeft);
  for (let rescuer = rescuerOf(witness); rescuer !== undefined; rescuer = rescuerOf(witness)) {
    pinned.add(rescuer);
    witness = shrink(sorted, pinned, failingPart, budgetLeft);
  }
  // A write pinned in an earlier round may have become unnecessary.
  for (const op of witness.filter((o) => pinned.has(o))) {
    pinned.delete(op);
    const smaller = failingPart(
      witness.filter((o) => o !== op),
      pinned,
    );
    if (smaller !== undefined && rescuerOf(smaller) === undefined) witness = smaller;
    else pinned.add(op);
  }
  return witness;
}

type FailingPart = (
  subset: readonly Operation[],
  keep: ReadonlySet<Operation>,
) => Operation[] | undefined;

/** One round of shrinking `sorted` (which fails), never removing `pinned` operations. */
function shrink(
  sorted: readonly Operation[],
  pinned: ReadonlySet<Operation>,
  failingPart: FailingPart,
  budgetLeft: () => boolean,
): Operation[] {
  const pins = sorted.filter((op) => pinned.has(op));
  // The free (unpinned) part of a failing subset, or undefined.
  const fails = (free: readonly Operation[]): Operation[] | undefined =>
    failingPart([...free, ...pins].sort(byInvoke), pinned)?.filter((op) => !pinned.has(op));

  let current = shortestFailingPrefix(
    sorted.filter((op) => !pinned.has(op)),
    fails,
  );
  let chunk = Math.max(1, Math.ceil(current.length / 2));
  for (;;) {
    let removedAny = false;
    for (let start = 0; start < current.length && budgetLeft(); ) {
      const smaller = fails([...current.slice(0, start), ...current.slice(start + chunk)]);
      if (smaller !== undefined) {
        current = smaller;
        removedAny = true;
      } else {
        start += chunk;
      }
    }
    if (!budgetLeft()) break;
    if (chunk > 1) chunk = Math.ceil(chunk / 2);
    else if (!removedAny) break;
    // With single removals, repeat until a whole pass removes nothing: a removal can make an
    // earlier operation removable.
  }
  return [...current, ...pins].sort(byInvoke);
}

/**
 * A short failing prefix of `ops` (which fails as a whole), by binary search, as `fails`
 * trimmed it. Cutting first keeps the checks of the later phases short. Failing is nearly
 * monotone in the prefix (a later operation can explain an earlier output only while that one
 * is still running, e.g. a delete explaining an overlapping get -> absent), so this may miss the
 * very shortest; but it only keeps prefixes it saw fail, so the result is always a witness.
 */
function shortestFailingPrefix(
  ops: readonly Operation[],
  fails: (prefix: readonly Operation[]) => Operation[] | undefined,
): Operation[] {
  let best: Operation[] = [...ops]; // the whole fails
  let lo = 0;
  let hi = ops.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const part = fails(ops.slice(0, mid));
    if (part !== undefined) {
      best = part;
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return best;
}
