import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, SETTINGS } from "../config/index.js";
import { createProgram, type StartRequest } from "./program.js";
import { serverVersion } from "./version.js";

/** Parses argv as the `d-engine` binary would, capturing output instead of exiting. */
async function parse(args: string[]) {
  const requests: StartRequest[] = [];
  let out = "";
  let err = "";
  const program = createProgram(
    {
      async start(request) {
        requests.push(request);
      },
    },
    "9.9.9",
  );
  for (const cmd of [program, ...program.commands]) {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => {
        out += s;
      },
      writeErr: (s) => {
        err += s;
      },
    });
  }
  let exitCode: number | undefined;
  try {
    await program.parseAsync(["node", "d-engine", ...args]);
  } catch (e) {
    exitCode = (e as { exitCode?: number }).exitCode;
  }
  return { requests, out, err, exitCode };
}

describe("d-engine start", () => {
  it("passes the config file and the flags given, and only those", async () => {
    const { requests } = await parse([
      "start",
      "--config",
      "node1.toml",
      "--id",
      "2",
      "--cluster-id",
      "c",
      "--listen",
      "127.0.0.1:9082",
      "--advertise",
      "10.0.0.2:9082",
      "--data-dir",
      "./d2",
      "--initial-cluster",
      "1=127.0.0.1:9081,2=127.0.0.1:9082",
      "--join",
      "--no-pre-vote",
      "--check-quorum",
      "--read-consistency",
      "lease",
      "--max-txn-ops",
      "64",
      "--log-level",
      "debug",
    ]);
    expect(requests).toEqual([
      {
        configFile: "node1.toml",
        flags: {
          id: "2",
          clusterId: "c",
          listen: "127.0.0.1:9082",
          advertise: "10.0.0.2:9082",
          dataDir: "./d2",
          initialCluster: "1=127.0.0.1:9081,2=127.0.0.1:9082",
          join: true,
          preVote: false,
          checkQuorum: true,
          readConsistency: "lease",
          maxTxnOps: "64",
          logLevel: "debug",
        },
      },
    ]);
  });

  it("with no flags passes nothing, which loads as the defaults", async () => {
    const { requests } = await parse(["start"]);
    expect(requests).toEqual([{ configFile: undefined, flags: {} }]);
    const { config } = loadConfig({ flags: requests[0]!.flags, env: {}, cwd: "/tmp" });
    expect(config.node.id).toBe(1);
  });

  it("has a flag for every setting, and the loader reads each one", async () => {
    // Give each setting's flag a distinctive valid value and check it lands at the setting's path.
    const values: Record<string, string> = {
      int: "7",
      string: "x7",
      address: "127.0.0.1:9087",
      members: "7=127.0.0.1:9087",
      list: "https://a.example,http://localhost:5173",
    };
    for (const s of SETTINGS) {
      const args =
        s.kind === "bool"
          ? ["start", `--no-${s.flag.slice(2)}`]
          : ["start", s.flag, s.choices ? s.choices[s.choices.length - 1]! : values[s.kind]!];
      const { requests, exitCode } = await parse(args);
      expect(exitCode, s.flag).toBeUndefined();
      expect(Object.values(requests[0]!.flags), s.flag).toHaveLength(1);
      const label = `flag ${s.kind === "bool" ? `--no-${s.flag.slice(2)}` : s.flag}`;
      try {
        const loaded = loadConfig({ flags: requests[0]!.flags, env: {}, cwd: "/tmp" });
        expect(loaded.originOf(s.path)).toBe(label);
      } catch (e) {
        // Some lone values break a rule with other settings; the error then names the flag.
        expect(e, s.flag).toBeInstanceOf(ConfigError);
        expect((e as Error).message).toContain(label);
      }
    }
  });

  it("help lists every setting's flag and environment variable", async () => {
    const { out, exitCode } = await parse(["start", "--help"]);
    expect(exitCode).toBe(0);
    for (const s of SETTINGS) {
      expect(out).toContain(`${s.flag} `);
      expect(out).toContain(s.env);
    }
    expect(out).toContain("--config <file>");
  });

  it("refuses an unknown option and a stray argument", async () => {
    const unknown = await parse(["start", "--bogus"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.err).toContain("unknown option '--bogus'");
    expect(unknown.requests).toEqual([]);
    const stray = await parse(["start", "extra"]);
    expect(stray.exitCode).toBe(1);
    expect(stray.requests).toEqual([]);
  });

  it("refuses a value-taking flag without its value", async () => {
    const { exitCode, err } = await parse(["start", "--id"]);
    expect(exitCode).toBe(1);
    expect(err).toContain("option '--id <n>' argument missing");
  });
});

describe("d-engine", () => {
  it("--version prints the version", async () => {
    const { out, exitCode } = await parse(["--version"]);
    expect(exitCode).toBe(0);
    expect(out.trim()).toBe("9.9.9");
  });

  it("--help lists the start command", async () => {
    const { out, exitCode } = await parse(["--help"]);
    expect(exitCode).toBe(0);
    expect(out).toContain("start [options]");
  });

  it("reads its version from package.json", () => {
    expect(serverVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
