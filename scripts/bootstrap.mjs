#!/usr/bin/env node
// Bootstrap for the two root commands (`npm test`, `npm start`) on a machine that has only
// Node 20 and npm. It installs the pinned pnpm into ./.tools (no global install, no corepack:
// corepack's self-download fails without registry signatures), installs the workspace's
// dependencies, then runs `pnpm <args>`.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PNPM_VERSION = "12.21.0";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const toolsDir = join(root, ".tools");
const pnpmBin = join(toolsDir, "node_modules", ".bin", "pnpm");

// turbo looks pnpm up on PATH, so the pinned copy goes first.
const env = {
  ...process.env,
  PATH: `${dirname(pnpmBin)}${delimiter}${process.env.PATH ?? ""}`,
  TURBO_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
};

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env, ...opts });
  if (res.error) throw res.error;
  return res.status ?? 1;
}

function installedPnpmVersion() {
  const pkg = join(toolsDir, "node_modules", "pnpm", "package.json");
  if (!existsSync(pkg)) return undefined;
  return JSON.parse(readFileSync(pkg, "utf8")).version;
}

function log(msg) {
  process.stderr.write(`[bootstrap] ${msg}\n`);
}

if (installedPnpmVersion() !== PNPM_VERSION) {
  log(`installing pnpm ${PNPM_VERSION} into .tools/`);
  const status = run("npm", [
    "install",
    "--prefix",
    toolsDir,
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    `pnpm@${PNPM_VERSION}`,
  ]);
  if (status !== 0) {
    log(`npm could not install pnpm ${PNPM_VERSION} (exit ${status})`);
    process.exit(status);
  }
}

const frozen = process.env.CI ? ["--frozen-lockfile"] : [];
const installStatus = run(pnpmBin, ["install", "--reporter=silent", ...frozen]);
if (installStatus !== 0) {
  log(`pnpm install failed (exit ${installStatus})`);
  process.exit(installStatus);
}

const args = process.argv.slice(2);
// Hand signals to the child so Ctrl-C reaches the demo/server, which shuts down cleanly.
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => {});
process.exit(run(pnpmBin, args));
