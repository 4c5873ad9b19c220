// watch against a one-node engine in memory: events from a past revision then live, JSON lines,
// Ctrl-C, and a watch on a compacted revision.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliHarness } from "../../../test/support/cli-harness.js";

let h: CliHarness;
beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(async () => {
  await h?.stop();
});

/** Runs watch until its output contains `until`, then plays Ctrl-C. */
function watchUntil(args: string[], until: string, onStart?: () => void) {
  const stop = new AbortController();
  let seen = "";
  let started = false;
  return h.run(["watch", ...args], {
    interrupt: stop.signal,
    onOut: (t) => {
      seen += t;
      if (!started) {
        started = true;
        onStart?.();
      }
      if (seen.includes(until)) stop.abort();
    },
  });
}

describe("watch", () => {
  it("replays from a past revision, then follows live changes, until Ctrl-C", async () => {
    const a = await h.client.put("w/a", "1");
    await h.client.put("w/b", "2");
    await h.client.delete("w/a");
    const r0 = a.revision;
    // The live put is written once the replay has begun printing: the watch sees it either way
    // (it asked for everything from r0 on), but this proves replay and live join without a gap.
    const r = await watchUntil(
      ["w/", "--prefix", "--rev", String(r0), "--prev-kv"],
      "PUT w/c",
      () => {
        void h.client.put("w/c", "3");
      },
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        `${r0} PUT w/a 1`,
        `${r0 + 1} PUT w/b 2`,
        `${r0 + 2} DELETE w/a (was 1)`,
        `${r0 + 3} PUT w/c 3`,
        "",
      ].join("\n"),
    );
  });

  it("prints one JSON line per batch with --json; --no-put leaves puts out", async () => {
    const p = await h.client.put("wj/k", "v");
    await h.client.delete("wj/k");
    const r = await watchUntil(
      ["wj/k", "--rev", String(p.revision), "--json", "--no-put"],
      "delete",
    );
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        revision: p.revision + 1,
        progress: false,
        events: [
          {
            type: "delete",
            kv: expect.objectContaining({ key: "wj/k", modRevision: p.revision + 1 }),
          },
        ],
      },
    ]);
  });

  it("a watch from a compacted revision fails with exit 1 and the compacted code", async () => {
    const old = await h.client.put("wc/k", "1");
    const now = await h.client.put("wc/k", "2");
    await h.client.compact(now.revision);
    const r = await h.run(["watch", "wc/k", "--rev", String(old.revision)]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^d-engine watch: .*compacted.* \(compacted\)\n$/);
  });

  it("refuses contradictory ranges (exit 2)", async () => {
    const r = await h.run(["watch", "a", "--prefix", "--from-key"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("give only one of --prefix and --from-key");
  });
});
