// When a key's history is too long to refute within the budget, a violation can still be found
// in a window of it. A window is cut so that its verdict carries over to the whole history:
// - operations invoked after `to` are dropped, and those still running at `to` become unknown
//   (they may take effect later): everything kept that completed did so before anything
//   dropped began, so it comes first in any linearization of the whole;
// - operations completed before `from` are dropped and the window starts from any state (what
//   they left behind), and those invoked earlier but still running at `from` become unknown
//   (they may have taken effect before or after `from`).
// Any linearization of the whole thus yields one of the window, so a window that has none,
// from any starting state, proves the whole history is not linearizable.

import { returnTime } from "./event-list.js";
import type { Operation } from "./history.js";

export interface HistoryWindow {
  readonly from: number;
  readonly to: number;
  readonly ops: readonly Operation[];
  /** The operations the window turned unknown, mapped back to what the history recorded. */
  readonly originals: ReadonlyMap<Operation, Operation>;
}

export function cutWindow(ops: readonly Operation[], from: number, to: number): HistoryWindow {
  const kept: Operation[] = [];
  const originals = new Map<Operation, Operation>();
  for (const op of ops) {
    const end = returnTime(op);
    if (op.invoke > to || end < from) continue;
    if (op.output.kind !== "unknown" && (op.invoke < from || end > to)) {
      const open: Operation = {
        ...op,
        output: { kind: "unknown" },
        complete: Number.POSITIVE_INFINITY,
      };
      originals.set(open, op);
      kept.push(open);
    } else {
      kept.push(op);
    }
  }
  return { from, to, ops: kept, originals };
}

/**
 * Windows ending at `to` (where the search got stuck), each reaching further back: the last
 * 32, 128, 512 and 2,048 operations invoked by then. Small windows are cheap to refute but may
 * lack the operations that explain a violation; larger ones cost more.
 */
export function windowsBefore(ops: readonly Operation[], to: number): HistoryWindow[] {
  const invokes = ops
    .map((op) => op.invoke)
    .filter((t) => t <= to)
    .sort((a, b) => a - b);
  const windows: HistoryWindow[] = [];
  for (const size of [32, 128, 512, 2048]) {
    const first = Math.max(0, invokes.length - size);
    windows.push(cutWindow(ops, invokes[first] ?? to, to));
    if (first === 0) break;
  }
  return windows;
}
