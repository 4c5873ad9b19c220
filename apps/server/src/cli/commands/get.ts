// `d-engine get <key> [range-end]`: reads a key or a range ([key, range-end), --prefix,
// --from-key), with a limit, a read consistency, a past revision, keys only or a count.
import type { RangeOptions, SortOrder, SortTarget } from "@d-engine/client";
import { type Command, Option } from "commander";
import { nonNegativeInt, positiveInt } from "../client/parse.js";
import { kvJson, kvTable, plural } from "../client/render.js";
import type { ClientCommands } from "../client/run.js";
import { UsageError } from "../client/run.js";
import { rangeEndOf } from "./range-options.js";

export function registerGet(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(program, "get", "read a key, or the keys of a range")
    .argument("<key>", "the key (the first key of a range)")
    .argument("[range-end]", "read [key, range-end) (exclusive end)")
    .option("--prefix", "read every key starting with <key>")
    .option("--from-key", "read every key >= <key>")
    .addOption(new Option("--limit <n>", "at most n keys (0: no limit)").argParser(nonNegativeInt))
    .addOption(
      new Option("--consistency <mode>", "how the read is served (default: the server's)").choices([
        "linearizable",
        "lease",
        "eventual",
      ]),
    )
    .addOption(new Option("--rev <revision>", "read at this past revision").argParser(positiveInt))
    .option("--keys-only", "keys without values")
    .option("--count-only", "only the number of keys")
    .addOption(new Option("--order <order>", "sort order").choices(["ascend", "descend"]))
    .addOption(
      new Option("--sort-by <target>", "what to sort by (with --order; default key)").choices([
        "key",
        "version",
        "create",
        "mod",
        "value",
      ]),
    )
    .option("--print-value-only", "print only the values, one per line (not with --json)");
  c.action(cmd, async (ctx, args, opts) => {
    const [key, end] = args as [string, string | undefined];
    if (opts.printValueOnly && (opts.keysOnly || opts.countOnly)) {
      throw new UsageError(
        "--print-value-only cannot be combined with --keys-only or --count-only",
      );
    }
    if (opts.sortBy !== undefined && opts.order === undefined) {
      throw new UsageError("--sort-by needs --order ascend or --order descend");
    }
    const rangeEnd = rangeEndOf(key, end, opts);
    const req: RangeOptions = {
      key,
      ...(rangeEnd ? { rangeEnd } : {}),
      ...(opts.limit ? { limit: opts.limit as number } : {}),
      ...(opts.consistency ? { consistency: opts.consistency as RangeOptions["consistency"] } : {}),
      ...(opts.rev ? { revision: opts.rev as number } : {}),
      ...(opts.keysOnly ? { keysOnly: true } : {}),
      ...(opts.countOnly ? { countOnly: true } : {}),
      ...(opts.order ? { sortOrder: opts.order as SortOrder } : {}),
      ...(opts.sortBy ? { sortTarget: opts.sortBy as SortTarget } : {}),
    };
    const r = await ctx.client().range(req);
    const keysOnly = opts.keysOnly === true;
    if (ctx.globals.json) {
      ctx.json({
        revision: r.revision,
        count: r.count,
        more: r.more,
        ...(opts.countOnly ? {} : { kvs: r.kvs.map((kv) => kvJson(kv, { keysOnly })) }),
      });
      return;
    }
    if (opts.printValueOnly) {
      for (const kv of r.kvs) {
        ctx.out(kv.value);
        ctx.out("\n");
      }
      return;
    }
    if (opts.countOnly) {
      ctx.out(`${plural(r.count, "key")} at revision ${r.revision}\n`);
      return;
    }
    if (r.kvs.length > 0) ctx.out(kvTable(r.kvs, { keysOnly }));
    const more = r.more ? ` (${r.count} match; more beyond --limit)` : "";
    ctx.out(`${plural(r.kvs.length, "key")} at revision ${r.revision}${more}\n`);
    return;
  });
}
