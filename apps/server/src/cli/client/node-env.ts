// The client commands' environment in a real process: the process's streams and environment,
// the network client, process.exit.
import { createClient } from "@d-engine/client";
import type { ClientCliEnv } from "./env.js";

export function processClientEnv(): ClientCliEnv {
  let interrupt: AbortController | undefined;
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: process.stdin.isTTY === true,
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return new Uint8Array(Buffer.concat(chunks));
    },
    connect: (opts) => createClient({ endpoints: opts.endpoints, timeoutMs: opts.timeoutMs }),
    exit(code) {
      // Explicit: the client's HTTP/2 sessions or a keep-alive timer must not hold the process.
      process.exit(code);
    },
    interrupted() {
      if (!interrupt) {
        const ac = new AbortController();
        interrupt = ac;
        const stop = () => ac.abort(new Error("interrupted"));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      }
      return interrupt.signal;
    },
  };
}
