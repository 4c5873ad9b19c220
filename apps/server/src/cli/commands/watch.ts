// `d-engine watch <key> [range-end]`: prints the changes of a key, a prefix or a range as they
// happen (or from a past revision with --rev), until Ctrl-C (exit 0) or until the server cancels
// the watch (exit 1 with the reason, e.g. the start revision was compacted). The client resumes
// a broken stream on another node without gaps or duplicates. One line per event:
//   <revision> PUT <key> <value>      (with --prev-kv: ... (was <previous value>))
//   <revision> DELETE <key>
// With --json, one JSON line per batch: {"revision", "progress", "events": [...]}.
import type { Command } from "commander";
import { positiveInt } from "../client/parse.js";
import { displayBytes, kvJson } from "../client/render.js";
import type { ClientCommands } from "../client/run.js";
import { EXIT_OK, holdOpen } from "../client/run.js";
import { rangeEndOf } from "./range-options.js";

export function registerWatch(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(program, "watch", "print the changes of a key, a prefix or a range until Ctrl-C")
    .argument("<key>", "the key (the first key of a range)")
    .argument("[range-end]", "watch [key, range-end) (exclusive end)")
    .option("--prefix", "watch every key starting with <key>")
    .option("--from-key", "watch every key >= <key>")
    .addOption(
      program
        .createOption("--rev <revision>", "start from this past revision (replayed, then live)")
        .argParser(positiveInt),
    )
    .option("--prev-kv", "show each change's previous version")
    .option("--no-put", "leave out puts")
    .option("--no-delete", "leave out deletes")
    .option("--progress-notify", "print progress notifications while nothing changes");
  c.action(cmd, async (ctx, args, opts) => {
    const [key, end] = args as [string, string | undefined];
    // --prefix and --from-key become a range end, as for get.
    const rangeEnd = rangeEndOf(key, end, opts);
    const stop = ctx.cli.interrupted();
    const watcher = ctx.client().watch({
      key,
      ...(rangeEnd ? { rangeEnd } : {}),
      ...(opts.rev ? { startRevision: opts.rev as number } : {}),
      ...(opts.prevKv ? { prevKv: true } : {}),
      ...(opts.put === false ? { noPut: true } : {}),
      ...(opts.delete === false ? { noDelete: true } : {}),
      ...(opts.progressNotify ? { progressNotify: true } : {}),
      signal: stop,
    });
    stop.addEventListener("abort", () => watcher.cancel(), { once: true });
    await holdOpen(
      (async () => {
        for await (const batch of watcher) {
          if (ctx.globals.json) {
            ctx.jsonLine({
              revision: batch.revision,
              progress: batch.progress,
              events: batch.events.map((e) => ({
                type: e.type,
                kv: kvJson(e.kv),
                ...(e.prevKv ? { prevKv: kvJson(e.prevKv) } : {}),
              })),
            });
            continue;
          }
          if (batch.progress) ctx.out(`${batch.revision} PROGRESS\n`);
          for (const e of batch.events) {
            const was = e.prevKv ? ` (was ${displayBytes(e.prevKv.value)})` : "";
            ctx.out(
              e.type === "put"
                ? `${batch.revision} PUT ${displayBytes(e.kv.key)} ${displayBytes(e.kv.value)}${was}\n`
                : `${batch.revision} DELETE ${displayBytes(e.kv.key)}${was}\n`,
            );
          }
        }
      })(),
    );
    return EXIT_OK;
  });
}
