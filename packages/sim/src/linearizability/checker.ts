// checkHistory: is a client history of the key-value store linearizable? Linearizability is
// compositional (Herlihy & Wing's P-compositionality), so each key is checked on its own, which
// keeps every search small. A violation is shrunk to a few operations that explain it.

import { describeOperation } from "./format.js";
import type { History, Operation } from "./history.js";
import { outputFits } from "./model.js";
import { withReadSources } from "./readable-witness.js";
import {
  checkSingleKey,
  DEFAULT_MAX_STEPS_PER_KEY,
  type InitialState,
  searchSingleKey,
} from "./search.js";
import { DEFAULT_MAX_SHRINK_CHECKS, minimalViolation } from "./shrink.js";
import { windowsBefore } from "./window.js";

export interface CheckOptions {
  /** Search steps allowed per key (and per shrinking check) before giving up with "unknown". */
  readonly maxStepsPerKey?: number;
  /** Shrink a violation to a minimal witness (default true); false reports all of the key's ops. */
  readonly shrink?: boolean;
  /** Bound on the checks shrinking may run; past it the witness is smaller but maybe not minimal. */
  readonly maxShrinkChecks?: number;
}

export type CheckResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly key: string;
      /** Operations on `key`, sorted by invocation, that no real-time-respecting order explains. */
      readonly minimal: readonly Operation[];
      readonly explanation: string;
    }
  | {
      readonly ok: "unknown";
      /** The first key whose search ran out of budget (other keys were fine). */
      readonly key: string;
      readonly reason: string;
    };

/**
 * Checks `history` key by key. Each key's register starts absent. An operation with output
 * `unknown` may take effect at any time after its invocation, or never; every other operation
 * must take effect between its invocation and completion, at equal times counting as
 * overlapping. A violation on any key wins over a key that ran out of budget. When a key's
 * history is too long to decide, windows of it are searched for a violation (window.ts) before
 * answering "unknown".
 *
 * Throws a RangeError on a malformed history (duplicate ids, completion before invocation, an
 * output the operation cannot produce): that is a bug in whatever recorded it.
 */
export function checkHistory(history: History, options: CheckOptions = {}): CheckResult {
  validate(history);
  const maxSteps = options.maxStepsPerKey ?? DEFAULT_MAX_STEPS_PER_KEY;
  const shrink = (ops: readonly Operation[], initial: InitialState): Operation[] =>
    options.shrink === false
      ? [...ops].sort(byInvoke)
      : minimalViolation(
          ops,
          maxSteps,
          options.maxShrinkChecks ?? DEFAULT_MAX_SHRINK_CHECKS,
          initial,
        );
  let undecided: CheckResult | undefined;
  for (const [key, ops] of partitionByKey(history)) {
    const { verdict, stuckAt } = searchSingleKey(ops, maxSteps, "absent");
    if (verdict === "not-linearizable") {
      const minimal = shrink(ops, "absent");
      return { ok: false, key, minimal, explanation: explain(key, minimal, ops) };
    }
    if (verdict === "linearizable") continue;
    // Too long to decide as a whole: look for a violation just before where the search stuck.
    const window = windowsBefore(ops, stuckAt).find(
      (w) => checkSingleKey(w.ops, maxSteps, "any") === "not-linearizable",
    );
    if (window !== undefined) {
      // Witnesses of the window hold from any starting state, and with the outputs the window
      // made unknown put back (more constraints), so they hold in the whole history.
      const minimal = withReadSources(
        shrink(window.ops, "any").map((op) => window.originals.get(op) ?? op),
        ops,
        maxSteps,
      );
      const where =
        `; the search of all ${ops.length} operations on this key ran out of budget, so this ` +
        `was found among the ${window.ops.length} running between t=${window.from} and ` +
        `t=${window.to}, holding whatever the key held before`;
      return { ok: false, key, minimal, explanation: explain(key, minimal, ops) + where };
    }
    undecided ??= {
      ok: "unknown",
      key,
      reason:
        `key ${JSON.stringify(key)}: no verdict within ${maxSteps} search steps over ` +
        `${ops.length} operations; raise maxStepsPerKey or shorten the history`,
    };
  }
  return undecided ?? { ok: true };
}

const byInvoke = (a: Operation, b: Operation): number => a.invoke - b.invoke || a.id - b.id;

/** The history split by key, keys in order of first appearance. */
export function partitionByKey(history: History): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    const ops = byKey.get(op.key);
    if (ops === undefined) byKey.set(op.key, [op]);
    else ops.push(op);
  }
  return byKey;
}

function explain(key: string, minimal: readonly Operation[], all: readonly Operation[]): string {
  const count = minimal.length === 1 ? "this operation" : `these ${minimal.length} operations`;
  let text =
    `key ${JSON.stringify(key)}: no order of ${count} explains every output ` +
    "(an operation that completed before another was invoked must come first)";
  if (minimal.length < all.length) text += `; shrunk from ${all.length} operations on this key`;
  const written = new Set<string>();
  for (const op of all) {
    if (op.input.op === "put" || op.input.op === "cas") written.add(op.input.value);
  }
  for (const op of minimal) {
    const read = op.output.kind === "value" ? op.output.value : null;
    if (read !== null && !written.has(read)) {
      text += `; ${describeOperation(op)} (client ${op.clientId}, t=${op.invoke}) read a value no operation on this key wrote`;
    }
  }
  return text;
}

function validate(history: History): void {
  const ids = new Set<number>();
  for (const op of history) {
    if (ids.has(op.id)) throw new RangeError(`history: duplicate operation id ${op.id}`);
    ids.add(op.id);
    if (!Number.isFinite(op.invoke)) {
      throw new RangeError(`history: operation ${op.id} has invoke time ${op.invoke}`);
    }
    if (!(op.complete >= op.invoke)) {
      throw new RangeError(
        `history: operation ${op.id} completes at ${op.complete}, before its invoke at ${op.invoke}`,
      );
    }
    if (!outputFits(op.input, op.output)) {
      throw new RangeError(
        `history: operation ${op.id} (${op.input.op}) cannot return output ${op.output.kind}`,
      );
    }
  }
}
