// `d-engine elect <name> <proposal>`: campaigns in the named election with the proposal as its
// value (candidates lead in the order they campaigned), prints when it leads, and leads until
// Ctrl-C (it then resigns; exit 0) or until its session's lease is lost (exit 1).
// `d-engine elect <name> --listen`: prints the leader now and every change (a new leader, a
// proclaimed value, no leader) until Ctrl-C. Sessions and fencing work as for `lock`.
import { Election, type ElectionLeader, observeElection, Session } from "@d-engine/client";
import type { Command } from "commander";
import { positiveInt } from "../client/parse.js";
import { displayBytes, putBytes } from "../client/render.js";
import type { ClientCommands, CommandContext } from "../client/run.js";
import {
  aborted,
  EXIT_FAILED,
  EXIT_OK,
  emit,
  holdOpen,
  UsageError,
  unlessInterrupted,
} from "../client/run.js";

export function registerElect(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(program, "elect", "campaign in an election and lead until Ctrl-C, or --listen to it")
    .argument("<name>", "the election's name")
    .argument("[proposal]", "this candidate's value (what observers see while it leads)")
    .option("-l, --listen", "print the leader and every change, without campaigning")
    .addOption(
      program
        .createOption(
          "--ttl <seconds>",
          "the session lease's TTL: how long a leader that died keeps leading (default 60)",
        )
        .argParser(positiveInt),
    );
  c.action(cmd, async (ctx, args, opts) => {
    const [name, proposal] = args as [string, string | undefined];
    if (opts.listen && proposal !== undefined) {
      throw new UsageError("give a proposal to campaign, or --listen to observe; not both");
    }
    if (!opts.listen && proposal === undefined) {
      throw new UsageError("give a proposal to campaign with, or --listen to observe");
    }
    const stop = ctx.cli.interrupted();
    if (opts.listen) return holdOpen(listen(ctx, name, stop));
    return holdOpen(campaign(ctx, name, proposal as string, opts.ttl as number | undefined, stop));
  });
}

async function campaign(
  ctx: CommandContext,
  name: string,
  proposal: string,
  ttl: number | undefined,
  stop: AbortSignal,
): Promise<number> {
  const session = await Session.create(ctx.client(), ttl ? { ttlSeconds: ttl } : {});
  try {
    const election = new Election(session, name);
    const led = await unlessInterrupted(stop, `this candidate led ${name}`, () =>
      election.campaign(proposal, { signal: stop }),
    );
    emit(
      ctx,
      {
        event: "elected",
        name,
        proposal,
        key: led.keyText,
        revision: led.revision,
        lease: session.leaseId,
      },
      `elected ${name}: ${proposal} (key ${led.keyText}, revision ${led.revision})`,
    );
    const lost = await Promise.race([aborted(stop).then(() => undefined), session.ended]);
    if (lost) {
      if (ctx.globals.json) ctx.jsonLine({ event: "lost", name, reason: lost.reason });
      ctx.cli.stderr.write(`leadership of ${name} lost: ${lost.reason}\n`);
      return EXIT_FAILED;
    }
    await election.resign();
    emit(ctx, { event: "resigned", name }, `resigned ${name}`);
    return EXIT_OK;
  } finally {
    await session.close().catch(() => undefined);
  }
}

async function listen(ctx: CommandContext, name: string, stop: AbortSignal): Promise<number> {
  for await (const leader of observeElection(ctx.client(), name, { signal: stop })) {
    emit(ctx, leaderJson(name, leader), leaderLine(name, leader));
  }
  return EXIT_OK;
}

function leaderJson(name: string, l: ElectionLeader | undefined): Record<string, unknown> {
  if (!l) return { event: "leader", name, leader: null };
  const leader: Record<string, unknown> = { key: l.keyText };
  putBytes(leader, "value", l.value);
  leader.revision = l.revision;
  leader.modRevision = l.modRevision;
  leader.lease = l.lease;
  return { event: "leader", name, leader };
}

function leaderLine(name: string, l: ElectionLeader | undefined): string {
  return l
    ? `leader of ${name}: ${displayBytes(l.value)} (key ${l.keyText}, revision ${l.revision})`
    : `${name} has no leader`;
}
