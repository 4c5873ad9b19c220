// The network watch's resume logic against scripted streams (no network): a broken stream
// resumes on the next endpoint from the last revision + 1, anything older a server resends is
// dropped, a watch from now learns its start from the created message, server cancellations end
// it with WatchCanceledError, bad requests are not retried, and a consumer that lets too many
// batches pile up is canceled rather than skipped.
import { Code, ConnectError } from "@connectrpc/connect";
import type { WatchResponse } from "@d-engine/proto/api";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, WatchCanceledError } from "../errors.js";
import type { MemberList } from "../types.js";
import { toWireMembers } from "../wire/cluster.js";
import { toWireWatchBatch, toWireWatchCanceled, toWireWatchCreated } from "../wire/watch.js";
import type { NetworkWatchDeps } from "./network-watch.js";
import { networkWatch, networkWatchMembers } from "./network-watch.js";
import type { WatchBatch } from "./types.js";

const kv = (rev: number) => ({
  key: new TextEncoder().encode("k"),
  value: new TextEncoder().encode(`v${rev}`),
  createRevision: 1,
  modRevision: rev,
  version: rev,
  lease: 0,
});
const batch = (rev: number) =>
  toWireWatchBatch(7, { revision: rev, events: [{ type: "put", kv: kv(rev) }], progress: false });

/** Each stream open takes the next script: messages, then an optional error. */
type Script = {
  readonly messages: WatchResponse[];
  readonly error?: Error;
  readonly hang?: boolean;
};

type MemberScript = {
  readonly lists: MemberList[];
  readonly error?: Error;
  readonly hang?: boolean;
};

function deps(scripts: Script[], memberScripts: MemberScript[] = []) {
  const opened: { url: string; start: number }[] = [];
  const closers = new Set<() => void>();
  const d: NetworkWatchDeps = {
    endpoints: ["http://a", "http://b"],
    firstEndpoint: () => 0,
    initialDelayMs: 1,
    maxDelayMs: 2,
    onClose: (end) => {
      closers.add(end);
      return () => closers.delete(end);
    },
    stub: (url) =>
      ({
        watch: (req: { startRevision: bigint }, call: { signal: AbortSignal }) => {
          opened.push({ url, start: Number(req.startRevision) });
          const s = scripts.shift() ?? { messages: [], hang: true };
          return (async function* () {
            for (const m of s.messages) yield m;
            if (s.error) throw s.error;
            if (s.hang) {
              await new Promise<void>((_, reject) =>
                call.signal.addEventListener("abort", () =>
                  reject(new ConnectError("aborted", Code.Canceled)),
                ),
              );
            }
          })();
        },
        watchProgress: async () => ({ found: true }),
        watchMembers: (_req: unknown, call: { signal: AbortSignal }) => {
          opened.push({ url, start: -1 });
          const s = memberScripts.shift() ?? { lists: [], hang: true };
          return (async function* () {
            for (const l of s.lists) yield toWireMembers(l);
            if (s.error) throw s.error;
            if (s.hang) {
              await new Promise<void>((_, reject) =>
                call.signal.addEventListener("abort", () =>
                  reject(new ConnectError("aborted", Code.Canceled)),
                ),
              );
            }
          })();
        },
      }) as never,
  };
  return { d, opened, closers };
}

async function pull(it: AsyncIterator<WatchBatch>, n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) throw new Error("ended");
    out.push(r.value.revision);
  }
  return out;
}

describe("networkWatch", () => {
  it("resumes on the next endpoint from the last revision + 1 and drops what it already delivered", async () => {
    const broken = new ConnectError("connection reset", Code.Unavailable);
    const { d, opened } = deps([
      { messages: [toWireWatchCreated(7, 4), batch(5), batch(6)], error: broken },
      // The second server resends 6 (it must not be delivered twice), then goes on.
      { messages: [toWireWatchCreated(9, 6), batch(6), batch(7), batch(8)], hang: true },
    ]);
    const w = networkWatch({ key: "k", startRevision: 5 }, d);
    const it = w[Symbol.asyncIterator]();
    expect(await pull(it, 4)).toEqual([5, 6, 7, 8]);
    expect(opened).toEqual([
      { url: "http://a", start: 5 },
      { url: "http://b", start: 7 },
    ]);
    w.cancel();
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it("a watch from now resumes after the revision its created message named", async () => {
    const { d, opened } = deps([
      { messages: [toWireWatchCreated(1, 41)], error: new ConnectError("gone", Code.Unavailable) },
      { messages: [toWireWatchCreated(2, 41), batch(42)], hang: true },
    ]);
    const w = networkWatch({ key: "k" }, d);
    expect(await pull(w[Symbol.asyncIterator](), 1)).toEqual([42]);
    expect(opened.map((o) => o.start)).toEqual([0, 42]);
    w.cancel();
  });

  it("ends with WatchCanceledError when the server cancels, and does not retry a bad request", async () => {
    const { d } = deps([
      { messages: [toWireWatchCreated(1, 0), batch(3), toWireWatchCanceled(1, "compacted", 9)] },
    ]);
    const it = networkWatch({ key: "k", startRevision: 3 }, d)[Symbol.asyncIterator]();
    expect(await pull(it, 1)).toEqual([3]);
    const err = await it.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchCanceledError);
    expect(err).toMatchObject({ reason: "compacted", compactRevision: 9 });

    const bad = deps([
      { messages: [], error: new ConnectError("no", Code.InvalidArgument) },
      { messages: [toWireWatchCreated(1, 0), batch(1)] },
    ]);
    const it2 = networkWatch({ key: "k", startRevision: 1 }, bad.d)[Symbol.asyncIterator]();
    await expect(it2.next()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(bad.opened).toHaveLength(1);
  });

  it("a consumer that falls too far behind is canceled after the batches it holds", async () => {
    const { d } = deps([
      {
        messages: [toWireWatchCreated(1, 0), batch(1), batch(2), batch(3), batch(4)],
        hang: true,
      },
    ]);
    const w = networkWatch({ key: "k", startRevision: 1 }, d, 2);
    const it = w[Symbol.asyncIterator]();
    // Let the pump read everything before the consumer takes anything.
    await new Promise((r) => setImmediate(r));
    expect(await pull(it, 2)).toEqual([1, 2]);
    const err = await it.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchCanceledError);
    expect((err as WatchCanceledError).reason).toBe("slow consumer");
  });

  it("watchMembers resumes on the next endpoint and skips a list it already delivered", async () => {
    const list = (ids: number[]): MemberList => ({
      members: ids.map((id) => ({
        id,
        role: "voter" as const,
        clientAddress: `127.0.0.1:${id}`,
        peerAddress: `127.0.0.1:${id + 100}`,
        readOnly: false,
      })),
      leaderId: 1,
    });
    const { d, opened } = deps(
      [],
      [
        { lists: [list([1, 2, 3])], error: new ConnectError("reset", Code.Unavailable) },
        { lists: [list([1, 2, 3]), list([1, 2])], hang: true },
      ],
    );
    const ctl = new AbortController();
    const got: number[][] = [];
    for await (const l of networkWatchMembers(d, ctl.signal)) {
      got.push(l.members.map((m) => m.id));
      if (got.length === 2) ctl.abort();
    }
    expect(got).toEqual([
      [1, 2, 3],
      [1, 2],
    ]);
    expect(opened.map((o) => o.url)).toEqual(["http://a", "http://b"]);
  });

  it("closing the client ends its watches", async () => {
    const { d, closers } = deps([{ messages: [toWireWatchCreated(1, 0)], hang: true }]);
    const it = networkWatch({ key: "k", startRevision: 1 }, d)[Symbol.asyncIterator]();
    const pending = it.next();
    expect(closers.size).toBe(1);
    for (const c of [...closers]) c();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(closers.size).toBe(0);
  });
});
