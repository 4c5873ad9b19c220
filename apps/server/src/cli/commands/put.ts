// `d-engine put <key> [value]`: writes a key. Without a value argument the value is read from
// standard input (all of it, as bytes), as etcdctl does.

import type { Command } from "commander";
import { Option } from "commander";
import { leaseId, positiveInt } from "../client/parse.js";
import { kvJson, kvTable } from "../client/render.js";
import type { ClientCommands } from "../client/run.js";
import { UsageError } from "../client/run.js";

export function registerPut(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(program, "put", "write a key (the value from stdin when not given)")
    .argument("<key>", "the key")
    .argument("[value]", "the value (default: standard input, read to its end)")
    .addOption(new Option("--lease <id>", "attach the key to this lease").argParser(leaseId))
    .addOption(
      new Option(
        "--ttl <seconds>",
        "grant a lease of this many seconds for the key, in the same write",
      )
        .argParser(positiveInt)
        .conflicts("lease"),
    )
    .option("--prev-kv", "print the key's previous version");
  c.action(cmd, async (ctx, args, opts) => {
    const [key, given] = args as [string, string | undefined];
    let value: string | Uint8Array;
    if (given !== undefined) value = given;
    else if (ctx.cli.stdinIsTTY) {
      throw new UsageError("no value: give it as an argument or on standard input");
    } else value = await ctx.cli.readStdin();
    const r = await ctx.client().put(key, value, {
      ...(opts.lease !== undefined ? { lease: opts.lease as number } : {}),
      ...(opts.ttl !== undefined ? { ttlSeconds: opts.ttl as number } : {}),
      ...(opts.prevKv ? { prevKv: true } : {}),
    });
    if (ctx.globals.json) {
      ctx.json({
        revision: r.revision,
        lease: r.lease,
        ...(opts.prevKv ? { prevKv: r.prevKv ? kvJson(r.prevKv) : null } : {}),
      });
      return;
    }
    ctx.out(`OK revision ${r.revision}${r.lease ? ` lease ${r.lease}` : ""}\n`);
    if (opts.prevKv) ctx.out(r.prevKv ? kvTable([r.prevKv]) : "(no previous version)\n");
    return;
  });
}
