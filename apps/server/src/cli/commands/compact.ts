// `d-engine compact <revision>`: discards the key-value history before a revision (reads and
// watches of older revisions fail with "compacted" afterwards).
import type { Command } from "commander";
import { positiveInt } from "../client/parse.js";
import type { ClientCommands } from "../client/run.js";

export function registerCompact(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(program, "compact", "discard the history before a revision")
    .addArgument(
      program
        .createArgument("<revision>", "keep this revision and later ones")
        .argParser(positiveInt),
    );
  c.action(cmd, async (ctx, args) => {
    const [revision] = args as [number];
    const r = await ctx.client().compact(revision);
    if (ctx.globals.json) ctx.json({ revision: r.revision });
    else ctx.out(`compacted: history before revision ${r.revision} is gone\n`);
    return;
  });
}
