#!/usr/bin/env node
// Runs every package's tests through turbo (one package at a time: the machines have 2 cores and
// some suites spawn processes), passes the output through unchanged, and ends with one line that
// adds up vitest's per-package counts: "Tests: N passed, N failed".
import { spawn } from "node:child_process";

const child = spawn("turbo", ["run", "test", "--concurrency=1", ...process.argv.slice(2)], {
  stdio: ["inherit", "pipe", "inherit"],
});

let passed = 0;
let failed = 0;
let pending = "";
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const ansi = /\x1b\[[0-9;]*m/g;

function count(line) {
  const plain = line.replace(ansi, "");
  // vitest's closing line per package: "Tests  12 passed (12)" or "Tests  1 failed | 11 passed (12)"
  if (!/^\S*\s*Tests\s+\d/.test(plain.replace(/^[^:]*:test:\s*/, ""))) return;
  passed += Number(/(\d+) passed/.exec(plain)?.[1] ?? 0);
  failed += Number(/(\d+) failed/.exec(plain)?.[1] ?? 0);
}

child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString();
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) count(line);
});

child.on("close", (code) => {
  if (pending) count(pending);
  const ok = code === 0;
  console.log(`Tests: ${passed} passed, ${ok ? failed : Math.max(failed, 1)} failed`);
  process.exit(code ?? 1);
});
