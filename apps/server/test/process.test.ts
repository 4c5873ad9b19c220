// The built `d-engine` binary as an operator runs it: a real process, its exit code and output.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, type Exit, killAll, MAIN, start } from "./support/processes.js";

let cwd: string;

beforeAll(() => {
  assertBuilt();
  cwd = mkdtempSync(join(tmpdir(), "d-engine-cli-"));
});
afterEach(killAll);
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** Runs `d-engine args...` to its end in the temp dir, with only `env` as DENGINE_* settings. */
async function run(args: string[], env: Record<string, string> = {}) {
  const p = start(MAIN, args, { cwd, env });
  const exit: Exit = await p.waitForExit(15_000);
  return { code: exit.code, stdout: p.stdout(), stderr: p.stderr() };
}

describe("d-engine (built binary)", { timeout: 30_000 }, () => {
  it("a config file that breaks a rule exits 2 naming the file and the setting, without a stack", async () => {
    writeFileSync(join(cwd, "d-engine.toml"), "[raft]\nelectionTicks = 3\nheartbeatTicks = 5\n");
    const r = await run(["start", "--config", "d-engine.toml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "d-engine: config file d-engine.toml: raft.electionTicks must be > raft.heartbeatTicks (got 3 <= 5)\n",
    );
    expect(r.stdout).toBe("");
  });

  it("a bad environment variable exits 2 naming the variable", async () => {
    const r = await run(["start"], { DENGINE_NODE_ID: "abc" });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'd-engine: environment DENGINE_NODE_ID: node.id must be an integer (got "abc")\n',
    );
  });

  it("a bad flag value exits 2 naming the flag; a missing config file too", async () => {
    const r = await run(["start", "--listen", "127.0.0.1", "--config", "nope.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("d-engine: config file nope.yaml: no such file\n");
    const r2 = await run(["start", "--listen", "127.0.0.1"]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toBe(
      'd-engine: flag --listen: node.listen must be host:port with a port from 1 to 65535 (got "127.0.0.1")\n',
    );
  });

  it("an unknown flag exits 1 with commander's message", async () => {
    const r = await run(["start", "--electon-ticks", "5"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: unknown option '--electon-ticks'");
  });

  it("--version and --help exit 0", async () => {
    const v = await run(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await run(["start", "--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("--initial-cluster <id=host:port,...>");
  });
});
