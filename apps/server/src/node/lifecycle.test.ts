import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.js";
import { createLogger } from "../log/logger.js";
import { type LifecycleDeps, runServer, type ShutdownSignal } from "./lifecycle.js";
import type { RunningNode } from "./start-node.js";

const config = loadConfig({ env: {}, cwd: "/srv" }).config;

/** Log lines as objects, with a way to wait (bounded) for one. */
function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  const logger = createLogger({
    level: "info",
    nodeId: 1,
    clusterId: "d-engine",
    destination: {
      write(s: string) {
        const line = JSON.parse(s) as Record<string, unknown>;
        lines.push(line);
        for (const w of waiters.filter((x) => x.match(line))) w.resolve();
      },
    },
  });
  const waitFor = (match: (l: Record<string, unknown>) => boolean, ms = 2_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = lines.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error("log line did not come")), ms);
      waiters.push({
        match,
        resolve: () => {
          clearTimeout(timer);
          resolve(lines.find(match)!);
        },
      });
    });
  return { logger, lines, waitFor };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A node whose election and stop the test controls. */
function fakeNode() {
  const election = deferred<number>();
  const stopGate = deferred<void>();
  const leaderAsked = deferred<void>();
  const stopCalled = deferred<void>();
  const stops: { transferTimeoutMs: number }[] = [];
  let leader = 0;
  const node: RunningNode = {
    listenAddress: "127.0.0.1:9081",
    leaderId: () => leader,
    waitForLeader: () => {
      leaderAsked.resolve();
      return election.promise;
    },
    async stop(o) {
      stops.push(o);
      stopCalled.resolve();
      await stopGate.promise;
    },
  };
  return {
    node,
    stops,
    leaderAsked: leaderAsked.promise,
    stopCalled: stopCalled.promise,
    elect(id: number) {
      leader = id;
      election.resolve(id);
    },
    noElection: () => election.reject(new Error("no leader within the wait")),
    stopDone: () => stopGate.resolve(),
    stopFails: (e: Error) => stopGate.reject(e),
  };
}

function deps(startNode: LifecycleDeps["startNode"]) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const d: LifecycleDeps = {
    startNode,
    signals: signals as unknown as LifecycleDeps["signals"],
    exit: (code) => exits.push(code),
  };
  const send = (s: ShutdownSignal) => signals.emit(s, s);
  return { d, signals, exits, send };
}

const isServing = (l: Record<string, unknown>) => l.event === "serving";

describe("runServer", () => {
  it("announces once with the leader, then on SIGTERM stops the node with a handover and exits 0", async () => {
    const f = fakeNode();
    const { d, signals, exits, send } = deps(async () => f.node);
    const log = captureLog();
    const done = runServer(config, log.logger, d);
    f.elect(1);
    const serving = await log.waitFor(isServing);
    expect(serving).toMatchObject({
      address: "127.0.0.1:9081",
      dataDir: "/srv/data",
      leaderId: 1,
      nodeId: 1,
      msg: "serving on 127.0.0.1:9081 as node 1 of cluster d-engine (data /srv/data, leader 1)",
    });
    expect(f.stops).toEqual([]);
    send("SIGTERM");
    await f.stopCalled;
    // The handover may take two election timeouts (2 x 10 ticks x 100 ms).
    expect(f.stops).toEqual([{ transferTimeoutMs: 2_000 }]);
    f.stopDone();
    expect(await done).toBe(0);
    expect(exits).toEqual([]);
    expect(log.lines.filter(isServing)).toHaveLength(1);
    expect(log.lines.at(-1)?.msg).toBe("stopped");
    expect(signals.listenerCount("SIGTERM") + signals.listenerCount("SIGINT")).toBe(0);
  });

  it("says so when no leader is known yet", async () => {
    const f = fakeNode();
    const { d, send } = deps(async () => f.node);
    const log = captureLog();
    const done = runServer(config, log.logger, d);
    f.noElection();
    const serving = await log.waitFor(isServing);
    expect(serving.leaderId).toBe(0);
    expect(serving.msg).toContain("no leader yet");
    send("SIGINT");
    f.stopDone();
    expect(await done).toBe(0);
  });

  it("a signal while waiting for an election stops at once", async () => {
    const f = fakeNode();
    const { d, send } = deps(async () => f.node);
    const log = captureLog();
    const done = runServer(config, log.logger, d);
    // The election never comes; the signal must not wait for it.
    await f.leaderAsked;
    send("SIGTERM");
    const serving = await log.waitFor(isServing);
    expect(serving.leaderId).toBe(0);
    f.stopDone();
    expect(await done).toBe(0);
    expect(f.stops).toHaveLength(1);
  });

  it("a second signal during shutdown forces the exit with 128 + the signal number", async () => {
    const f = fakeNode();
    const { d, exits, send } = deps(async () => f.node);
    const log = captureLog();
    const done = runServer(config, log.logger, d);
    f.elect(1);
    await log.waitFor(isServing);
    send("SIGINT");
    expect(exits).toEqual([]);
    send("SIGTERM");
    expect(exits).toEqual([143]);
    send("SIGINT");
    expect(exits).toEqual([143, 130]);
    expect(log.lines.some((l) => String(l.msg).includes("exiting without finishing"))).toBe(true);
    f.stopDone();
    expect(await done).toBe(0);
  });

  it("a signal during startup stops the node as soon as it has started, without announcing", async () => {
    const f = fakeNode();
    const started = deferred<RunningNode>();
    const { d, send } = deps(() => started.promise);
    const log = captureLog();
    const done = runServer(config, log.logger, d);
    send("SIGINT");
    await log.waitFor((l) => l.signal === "SIGINT");
    started.resolve(f.node);
    f.stopDone();
    expect(await done).toBe(0);
    expect(f.stops).toHaveLength(1);
    expect(log.lines.filter(isServing)).toEqual([]);
  });

  it("a node that fails to start exits 1 with the reason", async () => {
    const { d, signals } = deps(async () => {
      throw Object.assign(new Error("listen EADDRINUSE: address already in use 127.0.0.1:9081"), {
        code: "EADDRINUSE",
      });
    });
    const log = captureLog();
    expect(await runServer(config, log.logger, d)).toBe(1);
    const line = log.lines.at(-1)!;
    expect(line.msg).toBe(
      "failed to start: listen EADDRINUSE: address already in use 127.0.0.1:9081",
    );
    expect(line.error).toMatchObject({ code: "EADDRINUSE" });
    expect(signals.listenerCount("SIGTERM")).toBe(0);
  });

  it("a failed shutdown exits 1", async () => {
    const f = fakeNode();
    const { d, send } = deps(async () => f.node);
    const log = captureLog();
    const done = runServer(config, log.logger, d);
    f.elect(1);
    await log.waitFor(isServing);
    send("SIGTERM");
    await f.stopCalled;
    f.stopFails(new Error("fsync failed"));
    expect(await done).toBe(1);
    expect(log.lines.at(-1)?.msg).toBe("shutdown failed: fsync failed");
  });
});
