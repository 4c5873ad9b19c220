#!/usr/bin/env node
// The `d-engine` command.
import { createProgram } from "./cli/program.js";
import { runStart } from "./cli/start.js";
import { serverVersion } from "./cli/version.js";
import { startNode } from "./node/start-node.js";

const program = createProgram(
  {
    async start(request) {
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
  },
  serverVersion(),
);

await program.parseAsync(process.argv);
