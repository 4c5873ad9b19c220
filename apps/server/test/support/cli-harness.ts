// Runs the client commands in the test process, as the binary would parse them, against a
// one-node engine over the in-memory peer network (no sockets), capturing stdout, stderr and
// the exit code. The commands' own client is the engine's in-process client.
import type { DEngineClient } from "@d-engine/client";
import { EmbeddedEngine } from "@d-engine/engine";
import { MemoryNetwork } from "@d-engine/transport";
import { CommanderError } from "commander";
import type { ClientCliEnv, ConnectOptions } from "../../src/cli/client/env.js";
import { createProgram } from "../../src/cli/program.js";

export interface CliResult {
  /** The exit code (undefined: the command never ended, which is a bug). */
  readonly code: number | undefined;
  readonly out: string;
  readonly err: string;
  /** stdout as bytes (for values that are not text). */
  readonly outBytes: Buffer;
}

export interface RunOptions {
  readonly stdin?: string | Uint8Array;
  readonly stdinIsTTY?: boolean;
  readonly env?: Record<string, string>;
  /** Plays Ctrl-C for the commands that run until stopped (default: never fires). */
  readonly interrupt?: AbortSignal;
  /** Sees stdout as it is written (to act once a long-running command got going). */
  readonly onOut?: (text: string) => void;
}

/** Parses argv with the program (no engine: the connect callback decides what a client is). */
export async function runCli(
  args: readonly string[],
  connect: (opts: ConnectOptions) => DEngineClient,
  opts: RunOptions = {},
): Promise<CliResult> {
  const out: Buffer[] = [];
  let err = "";
  let code: number | undefined;
  const toBuf = (s: string | Uint8Array) =>
    typeof s === "string" ? Buffer.from(s) : Buffer.from(s);
  const env: ClientCliEnv = {
    env: opts.env ?? {},
    stdout: {
      write: (s) => {
        out.push(toBuf(s));
        opts.onOut?.(toBuf(s).toString());
      },
    },
    stderr: {
      write: (s) => {
        err += toBuf(s).toString();
      },
    },
    stdinIsTTY: opts.stdinIsTTY ?? opts.stdin === undefined,
    readStdin: async () => toBuf(opts.stdin ?? ""),
    connect,
    exit: (c) => {
      if (code === undefined) code = c;
    },
    interrupted: () => opts.interrupt ?? new AbortController().signal,
  };
  const program = createProgram({ start: async () => undefined, client: env }, "9.9.9");
  program.configureOutput({
    writeOut: (s) => env.stdout.write(s),
    writeErr: (s) => env.stderr.write(s),
  });
  try {
    await program.parseAsync(["node", "d-engine", ...args]);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code ??= e.exitCode;
  }
  const outBytes = Buffer.concat(out);
  return { code, out: outBytes.toString(), err, outBytes };
}

export interface Background {
  /** Ctrl-C. */
  stop(): void;
  readonly done: Promise<CliResult>;
  output(match: RegExp): Promise<RegExpMatchArray>;
}

/** A one-node engine in memory whose client the commands use. */
export class CliHarness {
  readonly connects: ConnectOptions[] = [];
  closes = 0;

  private constructor(readonly engine: EmbeddedEngine) {}

  static async start(): Promise<CliHarness> {
    const net = new MemoryNetwork();
    const address = "127.0.0.1:7001";
    const engine = await EmbeddedEngine.start({
      nodeId: 1,
      clusterId: "cli",
      address,
      initialMembers: [{ id: 1, address }],
      raft: { tickMs: 10, electionTicks: 10, heartbeatTicks: 1, seed: 7 },
      compaction: false,
      peerTransport: (h) => net.connect(1, h, { onUnreachable: (to) => h.onUnreachable(to) }),
    });
    const deadline = Date.now() + 10_000;
    // A single voter elects itself within a few election timeouts.
    while (!engine.node.isLeader) {
      if (Date.now() > deadline) throw new Error("the one-node engine elected no leader in 10 s");
      await new Promise((r) => setTimeout(r, 10));
    }
    return new CliHarness(engine);
  }

  /** The engine's client, with close() counted instead of closing it (the test owns it). */
  get client(): DEngineClient {
    return this.engine.client;
  }

  run(args: readonly string[], opts: RunOptions = {}): Promise<CliResult> {
    return runCli(
      args,
      (o) => {
        this.connects.push(o);
        const inner = this.engine.client;
        return new Proxy(inner, {
          get: (target, prop, receiver) => {
            if (prop === "close") {
              return async () => {
                this.closes++;
              };
            }
            const v = Reflect.get(target, prop, receiver);
            return typeof v === "function" ? v.bind(target) : v;
          },
        });
      },
      opts,
    );
  }

  /**
   * Starts a long-running command (watch, lock, elect): stop() plays Ctrl-C, output(re)
   * resolves once stdout matches (and fails if the command ends first), done is its result.
   */
  background(args: readonly string[]): Background {
    const stop = new AbortController();
    let seen = "";
    const waiters: { match: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
    const check = () => {
      for (const w of [...waiters]) {
        const m = seen.match(w.match);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    const done = this.run(args, {
      interrupt: stop.signal,
      onOut: (t) => {
        seen += t;
        check();
      },
    });
    return {
      stop: () => stop.abort(),
      done,
      output: (match) =>
        new Promise((resolve, reject) => {
          waiters.push({ match, resolve });
          check();
          void done.then((r) =>
            reject(new Error(`ended (code ${r.code}) before printing ${match}: ${r.out}${r.err}`)),
          );
        }),
    };
  }

  async stop(): Promise<void> {
    await this.engine.stop({ transferLeadership: false });
  }
}
