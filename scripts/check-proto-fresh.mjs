#!/usr/bin/env node
// `pnpm run proto:check`: lints the Protobuf sources and verifies that the committed generated
// code (packages/proto/src/gen) is exactly what `buf generate` produces from them now.
//
// It generates with the repository's own buf.gen.yaml into a temporary directory (`buf generate
// -o <tmp>` prefixes every `out` of the template with <tmp>) and compares file by file in both
// directions: missing, extra and differing files. It never writes to the work tree.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const GEN_DIR = "packages/proto/src/gen";
const binDir = join(root, "node_modules", ".bin");
const buf = join(binDir, process.platform === "win32" ? "buf.cmd" : "buf");

// buf finds the local plugin protoc-gen-es on PATH; make sure the workspace's copy comes first.
const env = { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ""}` };

class CheckError extends Error {}

function fail(msg) {
  throw new CheckError(msg);
}

function runBuf(args) {
  const res = spawnSync(buf, args, { cwd: root, env, stdio: "inherit" });
  if (res.error) fail(`could not run ${relative(root, buf)}: ${res.error.message}`);
  return res.status ?? 1;
}

/** Relative paths (with "/") of all files under `dir`, or an empty list if it does not exist. */
function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split(sep).join("/"))
    .sort();
}

function check(tmp) {
  if (runBuf(["generate", "-o", tmp]) !== 0) fail("buf generate failed (see above)");

  const fresh = join(tmp, GEN_DIR);
  const committed = join(root, GEN_DIR);
  const freshFiles = listFiles(fresh);
  const committedFiles = new Set(listFiles(committed));
  if (freshFiles.length === 0) fail(`buf generate produced nothing under ${GEN_DIR}`);

  const stale = [];
  for (const f of freshFiles) {
    if (!committedFiles.has(f)) {
      stale.push(`missing:   ${GEN_DIR}/${f}`);
    } else if (!readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f)))) {
      stale.push(`differs:   ${GEN_DIR}/${f}`);
    }
    committedFiles.delete(f);
  }
  for (const f of committedFiles) stale.push(`extra:     ${GEN_DIR}/${f}`);

  if (stale.length > 0) {
    process.stderr.write(
      `proto check: the generated code in ${GEN_DIR} is stale (${stale.length} file(s)):\n` +
        stale.map((s) => `  ${s}\n`).join("") +
        "Run `pnpm run proto:generate` and commit the result (never edit src/gen by hand).\n",
    );
    return 1;
  }
  console.log(
    `proto check: OK (buf lint clean; ${freshFiles.length} generated file(s) in ${GEN_DIR} up to date)`,
  );
  return 0;
}

let tmp;
try {
  if (!existsSync(buf)) fail(`${relative(root, buf)} not found; run pnpm install first`);
  if (runBuf(["lint"]) !== 0) fail("buf lint failed (see above)");
  tmp = mkdtempSync(join(tmpdir(), "dengine-proto-check-"));
  process.exitCode = check(tmp);
} catch (err) {
  if (!(err instanceof CheckError)) throw err;
  process.stderr.write(`proto check: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
