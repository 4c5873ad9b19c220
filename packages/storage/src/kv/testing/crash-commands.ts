// The log entries of the KV crash test (kv/crash.test.ts, testing/crash-applier.ts). Each entry is
// a pure function of the writing run's seed, its index and its term, so the test can tell what
// every index must hold without the child sending it the entries, including entries the child
// compacted away before it was killed.
import { type Entry, EntryType, seededRng } from "@d-engine/core";
import { prefixEnd, utf8 } from "../bytes.js";
import { encodeKvCommand } from "../codec.js";
import type { KvStateMachineOptions } from "../engine.js";
import type { ClientSession, KvOperation, RequestOp } from "../types.js";

/**
 * Every replica must use the same settings. Sessions expire after 20 s of log time (100 entries
 * at 200 ms of log time per index), so that expiry happens within a test run.
 */
export const CRASH_KV_OPTIONS: KvStateMachineOptions = { sessionIdleMs: 20_000 };

/** Log time advances this much per index. */
const MS_PER_INDEX = 200;
const KEYS = 40;
const LEASE_IDS = 6;

/** The command at `index` written by the run with `seed`: empty (a no-op entry) or a KvCommand. */
export function crashCommand(seed: number, index: number): Uint8Array {
  const rng = seededRng((Math.imul(seed, 0x9e3779b1) + index) >>> 0);
  const int = (n: number): number => rng.nextInt(n);
  const chance = (percent: number): boolean => int(100) < percent;
  const key = (): Uint8Array => utf8(`k/${String(int(KEYS)).padStart(2, "0")}`);
  const value = (): Uint8Array => utf8(`v${index}.${int(1000)}`);
  const lease = (): number => (chance(25) ? 1 + int(LEASE_IDS) : 0);

  // A new leader's empty entry, or a conf change the state machine sees as empty data.
  if (chance(4)) return new Uint8Array(0);

  const put = (): RequestOp => ({ type: "put", key: key(), value: value(), prevKv: chance(50) });
  const del = (): RequestOp =>
    chance(70)
      ? { type: "delete-range", key: key(), prevKv: chance(50) }
      : { type: "delete-range", key: utf8("k/1"), rangeEnd: prefixEnd(utf8("k/1")), prevKv: true };
  const read = (): RequestOp => ({ type: "range", key: utf8("k/"), rangeEnd: utf8("k/2") });

  let op: KvOperation;
  const r = int(100);
  if (r < 38) op = { type: "put", key: key(), value: value(), lease: lease(), prevKv: chance(30) };
  else if (r < 50) op = del() as KvOperation;
  else if (r < 66) {
    const k = key();
    op = {
      type: "txn",
      compare: [
        chance(50)
          ? { key: k, target: "version", result: chance(50) ? ">" : "=", number: int(3) }
          : { key: k, target: "value", result: "!=", value: utf8("x") },
      ],
      success: [put(), ...(chance(50) ? [del()] : [])],
      failure: [chance(50) ? put() : read()],
    };
  } else if (r < 74) op = { type: "lease-grant", ttl: 1 + int(30), id: chance(80) ? lease() : 0 };
  else if (r < 78) op = { type: "lease-revoke", id: 1 + int(LEASE_IDS) };
  else if (r < 83) op = { type: "lease-keep-alive", id: 1 + int(LEASE_IDS) };
  else if (r < 86) {
    op = { type: "lease-expire", ids: Array.from({ length: int(3) }, () => 1 + int(LEASE_IDS)) };
  } else if (r < 88) {
    // The leader's forms, with renew indexes (most will not match: those leases are kept).
    const ids = Array.from({ length: 1 + int(3) }, () => 1 + int(LEASE_IDS));
    op = chance(50)
      ? { type: "lease-expire", ids, renewIndexes: ids.map(() => int(index + 1)) }
      : {
          type: "lease-checkpoint",
          checkpoints: ids.map((id) => ({
            id,
            remainingMs: int(40_000),
            renewIndex: int(index + 1),
          })),
        };
  } else if (r < 94) op = { type: "put-with-ttl", key: key(), value: value(), ttl: 1 + int(20) };
  else if (r < 97) op = { type: "compaction", revision: Math.floor(index / (2 + int(4))) };
  else op = { type: "noop" };

  // Log time mostly advances with the index; now and then a new leader's clock is behind.
  const timeMs = 10_000 + index * MS_PER_INDEX - (chance(5) ? 3000 : 0);
  let session: ClientSession | undefined;
  if (chance(25)) {
    // Mostly new sequences, some retries of recent ones (remembered or forgotten answers).
    session = { clientId: `c${int(3)}`, sequence: Math.max(1, index - (chance(20) ? int(4) : 0)) };
  }
  return encodeKvCommand({ op, timeMs, session });
}

export function crashEntry(seed: number, index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: crashCommand(seed, index) };
}
