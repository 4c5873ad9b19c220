// `d-engine lock <name> [-- command...]`: acquires the named lock (waiting in line behind earlier
// waiters) with a session lease that is kept alive in the background, prints the lock's key and
// fencing token, then either holds the lock until Ctrl-C or runs the command while holding it
// and releases it when the command exits (exiting with the command's code). The command finds
// the key and the fencing token in DENGINE_LOCK_KEY and DENGINE_LOCK_REVISION; its output
// passes through. If the session's lease is lost while the lock is held, the command gets
// SIGTERM and `lock` exits 1: someone else may hold the lock by then.
//
// What a lock does not do on its own: keep a slow holder from acting after its lease ended (a
// paused process resumes believing it holds the lock). Pass the fencing token to the resource
// and have it refuse tokens older than the newest it has seen.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { Lock, Session, type SessionEndedError } from "@d-engine/client";
import type { Command } from "commander";
import { positiveInt } from "../client/parse.js";
import type { ClientCommands, CommandContext } from "../client/run.js";
import {
  aborted,
  EXIT_FAILED,
  EXIT_OK,
  emit,
  holdOpen,
  OperationError,
  unlessInterrupted,
} from "../client/run.js";

export function registerLock(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(
      program,
      "lock",
      "acquire a lock and hold it until Ctrl-C, or run a command holding it",
    )
    .argument("<name>", "the lock's name")
    .argument(
      "[command...]",
      "run this holding the lock, then release it (after --: lock <name> -- cmd -x)",
    )
    .addOption(
      program
        .createOption(
          "--ttl <seconds>",
          "the session lease's TTL: how long the lock outlives a holder that died (default 60)",
        )
        .argParser(positiveInt),
    );
  c.action(cmd, async (ctx, args, opts) => {
    const [name, command] = args as [string, string[]];
    const stop = ctx.cli.interrupted();
    return holdOpen(
      (async () => {
        const session = await Session.create(ctx.client(), {
          ...(opts.ttl ? { ttlSeconds: opts.ttl as number } : {}),
        });
        try {
          const lock = new Lock(session, name);
          const handle = await unlessInterrupted(stop, `the lock ${name} was acquired`, () =>
            lock.acquire({ signal: stop }),
          );
          emit(
            ctx,
            {
              event: "acquired",
              name,
              key: handle.keyText,
              revision: handle.revision,
              lease: session.leaseId,
            },
            `locked ${name}: key ${handle.keyText}, fencing token ${handle.revision}`,
          );
          let code = EXIT_OK;
          if (command.length === 0) {
            const lost = await Promise.race([aborted(stop).then(() => undefined), session.ended]);
            if (lost) return lostLock(ctx, name, lost);
          } else {
            const ran = await runHolding(
              ctx,
              command,
              { DENGINE_LOCK_KEY: handle.keyText, DENGINE_LOCK_REVISION: String(handle.revision) },
              session.ended,
            );
            if (ran.lost) return lostLock(ctx, name, ran.lost);
            code = ran.code;
          }
          await lock.release();
          emit(ctx, { event: "released", name }, `unlocked ${name}`);
          return code;
        } finally {
          // Revokes the lease: whatever happened above, the lock and the waiter's key go with it.
          await session.close().catch(() => undefined);
        }
      })(),
    );
  });
}

function lostLock(ctx: CommandContext, name: string, lost: SessionEndedError): number {
  if (ctx.globals.json) ctx.jsonLine({ event: "lost", name, reason: lost.reason });
  ctx.cli.stderr.write(`lock ${name} lost: ${lost.reason}\n`);
  return EXIT_FAILED;
}

/** Runs the command; if the session ends first, stops it with SIGTERM and says so. */
async function runHolding(
  ctx: CommandContext,
  command: readonly string[],
  extraEnv: Record<string, string>,
  ended: Promise<SessionEndedError>,
): Promise<{ code: number; lost?: SessionEndedError }> {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, {
    env: { ...ctx.cli.env, ...extraEnv },
    stdio: ["inherit", "pipe", "pipe"],
  });
  child.stdout?.on("data", (b: Buffer) => ctx.cli.stdout.write(b));
  child.stderr?.on("data", (b: Buffer) => ctx.cli.stderr.write(b));
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) =>
      reject(new OperationError(`cannot run ${file}: ${e.message}`, e.code ?? "failed")),
    );
    // 128 + the signal's number for a command killed by a signal, as shells do.
    child.once("close", (code, signal) =>
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)),
    );
  });
  let lost: SessionEndedError | undefined;
  void ended.then((e) => {
    if (child.exitCode === null && child.signalCode === null) {
      lost = e;
      child.kill("SIGTERM");
    }
  });
  const code = await exited;
  return lost ? { code, lost } : { code };
}
