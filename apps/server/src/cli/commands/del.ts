// `d-engine del <key> [range-end]`: deletes a key or a range ([key, range-end), --prefix,
// --from-key).
import type { DeleteOptions } from "@d-engine/client";
import type { Command } from "commander";
import { kvJson, kvTable, plural } from "../client/render.js";
import type { ClientCommands } from "../client/run.js";
import { rangeEndOf } from "./range-options.js";

export function registerDel(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(program, "del", "delete a key, or the keys of a range")
    .alias("delete")
    .argument("<key>", "the key (the first key of a range)")
    .argument("[range-end]", "delete [key, range-end) (exclusive end)")
    .option("--prefix", "delete every key starting with <key>")
    .option("--from-key", "delete every key >= <key>")
    .option("--prev-kv", "print the deleted keys");
  c.action(cmd, async (ctx, args, opts) => {
    const [key, end] = args as [string, string | undefined];
    const rangeEnd = rangeEndOf(key, end, opts);
    const req: DeleteOptions = {
      ...(rangeEnd ? { rangeEnd } : {}),
      ...(opts.prevKv ? { prevKv: true } : {}),
    };
    const r = await ctx.client().delete(key, req);
    if (ctx.globals.json) {
      ctx.json({
        revision: r.revision,
        deleted: r.deleted,
        ...(opts.prevKv ? { prevKvs: r.prevKvs.map((kv) => kvJson(kv)) } : {}),
      });
      return;
    }
    ctx.out(`deleted ${plural(r.deleted, "key")} at revision ${r.revision}\n`);
    if (opts.prevKv && r.prevKvs.length > 0) ctx.out(kvTable(r.prevKvs));
    return;
  });
}
