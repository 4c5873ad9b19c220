// The client commands of `d-engine`, for people at a terminal (in the habits of etcdctl). Each
// lives in its own file; this registers them on the program, under "Client commands".
import type { Command } from "commander";
import type { ClientCliEnv } from "../client/env.js";
import { addGlobalOptions } from "../client/globals.js";
import { ClientCommands } from "../client/run.js";
import { registerCompact } from "./compact.js";
import { registerDel } from "./del.js";
import { registerElect } from "./elect.js";
import { registerGet } from "./get.js";
import { registerLease } from "./lease.js";
import { registerLock } from "./lock.js";
import { registerMember } from "./member.js";
import { registerPut } from "./put.js";
import { registerSnapshot } from "./snapshot.js";
import { registerStatus } from "./status.js";
import { registerTransferLeader } from "./transfer-leader.js";
import { registerTxn } from "./txn.js";
import { registerWatch } from "./watch.js";

export type { ClientCliEnv } from "../client/env.js";

export function registerClientCommands(program: Command, cli: ClientCliEnv): void {
  // The global options are the program's too (`d-engine --endpoints a:1 get k`), but only
  // before the command: after it they are the command's own, so that they can never capture
  // a flag of `start`.
  program.enablePositionalOptions();
  addGlobalOptions(program);
  program.commandsGroup("Client commands:");
  // The program's own refusals (an unknown command, a bad global option) are bad usage too.
  // `start` was created before this and keeps commander's exit code 1 for its flags.
  program.exitOverride((err) => {
    cli.exit(err.exitCode === 0 ? 0 : 2);
    throw err;
  });
  const c = new ClientCommands(cli);
  registerPut(program, c);
  registerGet(program, c);
  registerDel(program, c);
  registerTxn(program, c);
  registerCompact(program, c);
  registerMember(program, c);
  registerTransferLeader(program, c);
  registerStatus(program, c);
  registerSnapshot(program, c);
  registerLease(program, c);
  registerWatch(program, c);
  registerLock(program, c);
  registerElect(program, c);
}
