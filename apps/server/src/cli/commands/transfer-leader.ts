// `d-engine transfer-leader [id]`: hands leadership to a voter (default: the most caught-up one)
// and prints the new leader.
import type { Command } from "commander";
import { positiveInt } from "../client/parse.js";
import type { ClientCommands } from "../client/run.js";

export function registerTransferLeader(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(program, "transfer-leader", "hand leadership to another voter")
    .addArgument(
      program
        .createArgument("[id]", "the voter to lead (default: the most caught-up one)")
        .argParser(positiveInt),
    );
  c.action(cmd, async (ctx, args) => {
    const [to] = args as [number | undefined];
    const r = await ctx.client().cluster.transferLeader(to);
    if (ctx.globals.json) ctx.json({ leaderId: r.leaderId });
    else ctx.out(`node ${r.leaderId} leads\n`);
    return;
  });
}
