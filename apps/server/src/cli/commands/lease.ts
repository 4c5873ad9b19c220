// `d-engine lease grant|revoke|keep-alive|list|timetolive`: leases, times to live that keys can
// be attached to (`put --lease <id>`); when a lease ends its keys are deleted. `keep-alive` runs
// until Ctrl-C (exit 0) or until the lease is lost (exit 1 with the reason), printing each
// renewal (with --json: one JSON line per event).
import type { Command } from "commander";
import { leaseId, positiveInt } from "../client/parse.js";
import { displayBytes, putBytes } from "../client/render.js";
import type { ClientCommands } from "../client/run.js";
import { aborted, EXIT_FAILED, EXIT_OK, holdOpen } from "../client/run.js";
import { formatTable } from "../client/table.js";

export function registerLease(program: Command, c: ClientCommands): void {
  const lease = c.group(program, "lease", "grant, revoke, keep alive and inspect leases");
  const idArg = (what: string) => lease.createArgument("<id>", what).argParser(leaseId);

  const grant = c
    .command(lease, "grant", "grant a lease")
    .addArgument(
      lease.createArgument("<ttl>", "its time to live in seconds").argParser(positiveInt),
    )
    .addOption(
      lease
        .createOption("--id <id>", "the lease id to use (default: the server chooses)")
        .argParser(leaseId),
    );
  c.action(grant, async (ctx, args, opts) => {
    const [ttl] = args as [number];
    const r = await ctx
      .client()
      .leases.grant(ttl, opts.id !== undefined ? { id: opts.id as number } : {});
    if (ctx.globals.json) ctx.json({ id: r.id, ttlSeconds: r.ttlSeconds });
    else ctx.out(`lease ${r.id} granted with TTL ${r.ttlSeconds}s\n`);
    return;
  });

  const revoke = c
    .command(lease, "revoke", "revoke a lease (its keys are deleted)")
    .addArgument(idArg("the lease"));
  c.action(revoke, async (ctx, args) => {
    const [id] = args as [number];
    const r = await ctx.client().leases.revoke(id);
    if (ctx.globals.json) ctx.json({ id, revision: r.revision });
    else ctx.out(`lease ${id} revoked at revision ${r.revision}\n`);
    return;
  });

  const keepAlive = c
    .command(lease, "keep-alive", "keep a lease alive until Ctrl-C (or renew it once)")
    .addArgument(idArg("the lease"))
    .option("--once", "renew once and exit");
  c.action(keepAlive, async (ctx, args, opts) => {
    const [id] = args as [number];
    const leases = ctx.client().leases;
    if (opts.once) {
      const r = await leases.keepAliveOnce(id);
      if (ctx.globals.json) ctx.json({ id: r.id, ttlSeconds: r.ttlSeconds });
      else ctx.out(`lease ${r.id} renewed, TTL ${r.ttlSeconds}s\n`);
      return EXIT_OK;
    }
    const stop = ctx.cli.interrupted();
    const keeper = leases.keepAlive(id, { signal: stop });
    keeper.on("renewed", (e) => {
      if (ctx.globals.json) ctx.jsonLine({ event: "renewed", id, ttlSeconds: e.ttlSeconds });
      else ctx.out(`lease ${id} renewed, TTL ${e.ttlSeconds}s\n`);
    });
    keeper.on("stall", (e) => {
      // A warning, not a failure: the keeper goes on unless the deadline passed.
      const msg = `the event loop stalled ${e.stalledMs} ms; ${Math.max(0, e.remainingMs)} ms were left on the lease`;
      if (ctx.globals.json) ctx.jsonLine({ event: "stall", id, ...e });
      else ctx.cli.stderr.write(`warning: ${msg}\n`);
    });
    // Held open: the keeper's timers do not hold the process (by design, for applications).
    const outcome = await holdOpen(
      Promise.race([keeper.lost, aborted(stop).then(() => "stopped" as const)]),
    );
    await keeper.stop();
    if (outcome === "stopped") return EXIT_OK;
    if (ctx.globals.json) ctx.jsonLine({ event: "lost", id, reason: outcome.reason });
    ctx.cli.stderr.write(`lease ${id} lost: ${outcome.reason}\n`);
    return EXIT_FAILED;
  });

  const list = c.command(lease, "list", "list the leases");
  c.action(list, async (ctx) => {
    const leases = await ctx.client().leases.list();
    if (ctx.globals.json) {
      ctx.json({
        leases: leases.map((l) => ({ id: l.id, grantedTtlSeconds: l.grantedTtlSeconds })),
      });
      return;
    }
    ctx.out(
      formatTable(
        [
          { header: "ID", align: "right" },
          { header: "GRANTED-TTL", align: "right" },
        ],
        leases.map((l) => [l.id, `${l.grantedTtlSeconds}s`]),
      ),
    );
    return;
  });

  const ttl = c
    .command(lease, "timetolive", "a lease's remaining time (and its keys with --keys)")
    .addArgument(idArg("the lease"))
    .option("--keys", "list the keys attached to it");
  c.action(ttl, async (ctx, args, opts) => {
    const [id] = args as [number];
    const r = await ctx.client().leases.timeToLive(id, opts.keys ? { keys: true } : {});
    if (ctx.globals.json) {
      ctx.json({
        id: r.id,
        ttlSeconds: r.ttlSeconds,
        grantedTtlSeconds: r.grantedTtlSeconds,
        ...(opts.keys
          ? {
              keys: r.keys.map((k) => {
                const o: Record<string, unknown> = {};
                putBytes(o, "key", k);
                return o;
              }),
            }
          : {}),
      });
      return;
    }
    if (r.ttlSeconds < 0) {
      ctx.out(`lease ${id} does not exist (expired or revoked)\n`);
      return;
    }
    ctx.out(`lease ${id}: ${r.ttlSeconds}s left of ${r.grantedTtlSeconds}s\n`);
    if (opts.keys) {
      ctx.out(
        formatTable(
          [{ header: "KEY" }],
          r.keys.map((k) => [displayBytes(k)]),
        ),
      );
    }
    return;
  });
}
