#!/usr/bin/env node
// Starts a three-node d-engine cluster on this machine: nodes 1-3 on 127.0.0.1:9081-9083, data
// under ./data/local-cluster/node-N (relative to the working directory, so a restart picks up
// where the last run left off). Prints each node's log lines prefixed with its id, then the
// client endpoints once every node serves. Ctrl-C stops all three gracefully (a second Ctrl-C
// kills them).
//
//   node apps/server/scripts/local-cluster.mjs [--base-port 9080] [-- flags for every node]
//
// --base-port B puts node N on port B+N (default 9080: 9081-9083); flags after "--" go to every
// node, e.g. "-- --log-level debug".
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const IDS = [1, 2, 3];
const HOST = "127.0.0.1";

const argv = process.argv.slice(2);
const dashes = argv.indexOf("--");
const own = dashes < 0 ? argv : argv.slice(0, dashes);
const extra = dashes < 0 ? [] : argv.slice(dashes + 1);
let basePort = 9080;
for (let i = 0; i < own.length; i++) {
  if (own[i] === "--base-port" && /^\d+$/.test(own[i + 1] ?? "")) {
    basePort = Number(own[++i]);
  } else {
    console.error(
      `usage: local-cluster.mjs [--base-port N] [-- flags for every node] (got "${own[i]}")`,
    );
    process.exit(2);
  }
}
const address = (id) => `${HOST}:${basePort + id}`;
const INITIAL = IDS.map((id) => `${id}=${address(id)}`).join(",");

if (!existsSync(MAIN)) {
  console.error(`${MAIN} is missing; build first: pnpm --filter @d-engine/server... build`);
  process.exit(1);
}

const nodes = new Map();
const serving = new Set();
let stopping = false;
let failed = false;

for (const id of IDS) {
  const args = [
    MAIN,
    "start",
    "--id",
    String(id),
    "--cluster-id",
    "local",
    "--listen",
    address(id),
    "--data-dir",
    `./data/local-cluster/node-${id}`,
    "--initial-cluster",
    INITIAL,
    ...extra,
  ];
  // Each node in its own process group: a terminal's Ctrl-C reaches only this script, which
  // then stops the nodes once (a node treats a second signal as "exit now").
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  nodes.set(id, child);
  createInterface({ input: child.stdout }).on("line", (line) => onLine(id, line));
  createInterface({ input: child.stderr }).on("line", (line) =>
    console.error(`[node ${id}] ${line}`),
  );
  child.on("exit", (code, signal) => {
    nodes.delete(id);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!stopping) {
      console.error(`[node ${id}] exited unexpectedly (${how}); stopping the others`);
      failed = true;
      stopping = true;
      stopAll("SIGTERM");
    } else {
      console.log(`[node ${id}] stopped (${how})`);
      if (code !== 0) failed = true;
    }
    if (nodes.size === 0) process.exit(failed ? 1 : 0);
  });
}

const LEVELS = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

function onLine(id, line) {
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    console.log(`[node ${id}] ${line}`);
    return;
  }
  console.log(`[node ${id}] ${LEVELS[record.level] ?? record.level} ${record.msg}`);
  if (record.event === "serving" && !serving.has(id)) {
    serving.add(id);
    if (serving.size === IDS.length) {
      console.log("");
      console.log(`cluster "local" is up: ${IDS.length} nodes`);
      for (const n of IDS)
        console.log(`  node ${n}  ${address(n)}  data ./data/local-cluster/node-${n}`);
      console.log(`endpoints: ${IDS.map(address).join(",")}`);
      console.log("Ctrl-C stops all nodes");
      console.log("");
    }
  }
}

function stopAll(signal) {
  for (const child of nodes.values()) child.kill(signal);
}

// Detached nodes would outlive this script if it died some other way.
process.on("exit", () => stopAll("SIGKILL"));

let signals = 0;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    signals += 1;
    stopping = true;
    if (signals === 1) {
      console.log(`\nstopping ${nodes.size} nodes...`);
      stopAll("SIGTERM");
    } else {
      console.log("\nkilling the nodes");
      stopAll("SIGKILL");
    }
  });
}
