// Entries whose content is a function of their index and term, so that a reader can tell an
// intact entry from a damaged or misplaced one without keeping a copy (the crash tests rely on
// this across processes).
import { type Entry, EntryType } from "@d-engine/core";

/** The payload length of the entry at (index, term): 0..maxLen bytes. */
export function payloadLength(index: number, term: number, maxLen: number): number {
  return (index * 7919 + term * 104729) % (maxLen + 1);
}

export function entryFor(index: number, term: number, maxLen = 300): Entry {
  const data = new Uint8Array(payloadLength(index, term, maxLen));
  for (let i = 0; i < data.length; i++) data[i] = (index * 31 + term * 17 + i * 13) & 0xff;
  return { index, term, type: index % 11 === 0 ? EntryType.ConfChange : EntryType.Normal, data };
}

export function entriesFor(from: number, to: number, term: number, maxLen = 300): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entryFor(i, term, maxLen));
  return out;
}

/** Whether `e` is exactly what entryFor(e.index, e.term, maxLen) makes; else what differs. */
export function entryProblem(e: Entry, maxLen = 300): string | undefined {
  const want = entryFor(e.index, e.term, maxLen);
  if (e.type !== want.type) return `entry ${e.index}: type ${e.type}, expected ${want.type}`;
  if (e.data.length !== want.data.length) {
    return `entry ${e.index}: ${e.data.length} bytes of data, expected ${want.data.length}`;
  }
  for (let i = 0; i < e.data.length; i++) {
    if (e.data[i] !== want.data[i]) return `entry ${e.index}: data differs at byte ${i}`;
  }
  return undefined;
}
