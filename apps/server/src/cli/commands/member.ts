// `d-engine member list|watch|add|remove|promote`: the cluster's membership. A new member joins as a
// learner (it replicates but does not vote) and becomes a voter by `member promote`, or by
// itself once caught up when the servers promote learners automatically.
import type { MemberList } from "@d-engine/client";
import type { Command } from "commander";
import { positiveInt } from "../client/parse.js";
import type { ClientCommands, CommandContext } from "../client/run.js";
import { EXIT_OK, holdOpen } from "../client/run.js";
import { formatTable } from "../client/table.js";

export function registerMember(program: Command, c: ClientCommands): void {
  const member = c.group(program, "member", "list, watch, add, remove and promote cluster members");

  const list = c
    .command(member, "list", "list the members and the leader")
    .option("--linearizable", "ask the leader, through the log (default: any node's view)");
  c.action(list, async (ctx, _args, opts) => {
    printMembers(
      ctx,
      await ctx.client().cluster.members(opts.linearizable ? { linearizable: true } : {}),
    );
    return;
  });

  const watch = c.command(
    member,
    "watch",
    "print the members now, then again after every committed change, until Ctrl-C",
  );
  c.action(watch, async (ctx) => {
    const stop = ctx.cli.interrupted();
    await holdOpen(
      (async () => {
        let first = true;
        try {
          for await (const list of ctx.client().cluster.watchMembers({ signal: stop })) {
            if (ctx.globals.json) ctx.jsonLine({ leaderId: list.leaderId, members: list.members });
            else {
              if (!first) ctx.out("\n");
              printMembers(ctx, list);
            }
            first = false;
          }
        } catch (e) {
          // Ctrl-C ends the stream by aborting it: that is the normal end.
          if (!stop.aborted) throw e;
        }
      })(),
    );
    return EXIT_OK;
  });

  const add = c
    .command(
      member,
      "add",
      "add a member as a learner (start it with `d-engine start --join` first)",
    )
    .addArgument(idArgument(member, "the new member's id"))
    .argument("<address>", "host:port where it serves clients (and peers, unless --peer-address)")
    .option("--peer-address <host:port>", "where it serves peers, if not at <address>")
    .option("--read-only", "a learner that is never promoted automatically");
  c.action(add, async (ctx, args, opts) => {
    const [id, address] = args as [number, string];
    const r = await ctx.client().cluster.addLearner({
      id,
      clientAddress: address,
      peerAddress: (opts.peerAddress as string | undefined) ?? address,
      ...(opts.readOnly ? { readOnly: true } : {}),
    });
    printMembers(ctx, r, `added node ${id} as a learner`);
    return;
  });

  const remove = c
    .command(member, "remove", "remove a member")
    .addArgument(idArgument(member, "the member's id"));
  c.action(remove, async (ctx, args) => {
    const [id] = args as [number];
    printMembers(ctx, await ctx.client().cluster.removeMember(id), `removed node ${id}`);
    return;
  });

  const promote = c
    .command(member, "promote", "promote a learner to a voter")
    .addArgument(idArgument(member, "the learner's id"));
  c.action(promote, async (ctx, args) => {
    const [id] = args as [number];
    printMembers(ctx, await ctx.client().cluster.promote(id), `promoted node ${id} to a voter`);
    return;
  });
}

function idArgument(parent: Command, description: string) {
  return parent.createArgument("<id>", description).argParser(positiveInt);
}

const COLUMNS = [
  { header: "ID", align: "right" },
  { header: "ROLE" },
  { header: "LEADER" },
  { header: "CLIENT-ADDRESS" },
  { header: "PEER-ADDRESS" },
  { header: "READ-ONLY" },
] as const;

/** The member list as a table (or JSON), after an optional line saying what was done. */
export function printMembers(ctx: CommandContext, list: MemberList, done?: string): void {
  if (ctx.globals.json) {
    ctx.json({ leaderId: list.leaderId, members: list.members });
    return;
  }
  if (done) ctx.out(`${done}\n`);
  ctx.out(
    formatTable(
      COLUMNS,
      list.members.map((m) => [
        m.id,
        m.role,
        m.id === list.leaderId ? "*" : "",
        m.clientAddress,
        m.peerAddress,
        m.readOnly,
      ]),
    ),
  );
  if (list.leaderId === 0) ctx.out("no leader is known\n");
}
