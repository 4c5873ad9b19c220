// The call and return events of a history as a doubly linked list ordered by time, the
// structure the search (search.ts) walks and edits.

import type { Operation } from "./history.js";

export const NIL = -1;
/** Slot 0 is a sentinel before the first event. */
export const HEAD = 0;

export interface EventList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** For each event, the index (in the op array) of its operation. */
  readonly opOf: Int32Array;
  readonly isCall: Uint8Array;
  /** For a call event, the index of its return event. */
  readonly matchOf: Int32Array;
  readonly timeOf: Float64Array;
}

/** When the client learned the outcome; an unknown outcome is never learned. */
export function returnTime(op: Operation): number {
  return op.output.kind === "unknown" ? Number.POSITIVE_INFINITY : op.complete;
}

export function buildEventList(ops: readonly Operation[]): EventList {
  const events: { time: number; call: boolean; op: number }[] = [];
  ops.forEach((op, i) => {
    events.push({ time: op.invoke, call: true, op: i });
    events.push({ time: returnTime(op), call: false, op: i });
  });
  // At equal times calls go first: operations that merely touch count as concurrent, the
  // conservative reading of a clock too coarse to order them.
  events.sort((a, b) => {
    if (a.time !== b.time) return a.time < b.time ? -1 : 1;
    if (a.call !== b.call) return a.call ? -1 : 1;
    return a.op - b.op;
  });
  const size = events.length + 1; // slot 0 is the head sentinel
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const opOf = new Int32Array(size).fill(NIL);
  const isCall = new Uint8Array(size);
  const matchOf = new Int32Array(size).fill(NIL);
  const timeOf = new Float64Array(size);
  const returnOf = new Int32Array(ops.length);
  for (let slot = 0; slot < size; slot++) {
    prev[slot] = slot - 1;
    next[slot] = slot + 1 < size ? slot + 1 : NIL;
  }
  events.forEach((e, k) => {
    const slot = k + 1;
    opOf[slot] = e.op;
    isCall[slot] = e.call ? 1 : 0;
    timeOf[slot] = e.time;
    if (!e.call) returnOf[e.op] = slot;
  });
  for (let slot = 1; slot < size; slot++) {
    if (isCall[slot] === 1) matchOf[slot] = returnOf[opOf[slot]!]!;
  }
  return { next, prev, opOf, isCall, matchOf, timeOf };
}
