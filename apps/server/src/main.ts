#!/usr/bin/env node
// The `d-engine` command: `start` runs a server node; the other commands are a client.

import { processClientEnv } from "./cli/client/node-env.js";
import { createProgram } from "./cli/program.js";
import { serverVersion } from "./cli/version.js";

const program = createProgram(
  {
    async start(request) {
      // Loaded here, not at the top: the client commands start twice as fast without the engine.
      const [{ runStart }, { startNode }] = await Promise.all([
        import("./cli/start.js"),
        import("./node/start-node.js"),
      ]);
      const code = await runStart(request, {
        env: process.env,
        cwd: process.cwd(),
        stderr: process.stderr,
        startNode,
        signals: process,
        exit: (c) => process.exit(c),
      });
      // Explicit: stray handles (a timer, a socket) must not keep a stopped server alive.
      process.exit(code);
    },
    client: processClientEnv(),
  },
  serverVersion(),
);

await program.parseAsync(process.argv);
