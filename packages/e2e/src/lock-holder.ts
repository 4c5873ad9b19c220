// A child process that takes a lock and holds it until it is killed (issue 6, test 3). Its
// session's lease keeper reports every renewal with the client's deadline for the lease: the
// time it SENT the last answered keep-alive plus the TTL, before which the server cannot have
// expired the lease. The child forwards each deadline over IPC, converted from the keeper's
// monotonic clock to wall-clock milliseconds so that the parent process can compare it with its
// own Date.now() (same machine, same clock).
//
// usage: lock-holder <endpoint,endpoint,...> <lock name> <ttl seconds>
import { createClient, Lock, Session } from "@d-engine/client";

export type HolderMessage =
  | {
      readonly type: "acquired";
      readonly keyText: string;
      readonly revision: number;
      readonly leaseId: number;
    }
  /** A keep-alive was answered: the lease cannot end before `deadlineWallMs`. */
  | { readonly type: "renewed"; readonly deadlineWallMs: number }
  | { readonly type: "lost"; readonly reason: string }
  | { readonly type: "error"; readonly message: string };

const [endpoints, name, ttlArg] = process.argv.slice(2);
if (!endpoints || !name || !ttlArg) {
  console.error("usage: lock-holder <endpoint,...> <lock name> <ttl seconds>");
  process.exit(2);
}
const send = (m: HolderMessage) => process.send?.(m);
const client = createClient({ endpoints: endpoints.split(","), timeoutMs: 5_000 });
// The keeper's timers do not hold a process open; this one does, until the parent kills us.
setInterval(() => {}, 60_000);

try {
  const session = await Session.create(client, { ttlSeconds: Number(ttlArg) });
  const report = (deadlineMs: number) =>
    send({ type: "renewed", deadlineWallMs: Date.now() + (deadlineMs - performance.now()) });
  // The first renewal may have come before we subscribed: report the current deadline too.
  if (session.keeper.deadlineMs !== undefined) report(session.keeper.deadlineMs);
  session.keeper.on("renewed", (r) => report(r.deadlineMs));
  void session.ended.then((e) => send({ type: "lost", reason: e.message }));
  const handle = await new Lock(session, name).acquire();
  send({
    type: "acquired",
    keyText: handle.keyText,
    revision: handle.revision,
    leaseId: session.leaseId,
  });
} catch (e) {
  send({ type: "error", message: (e as Error).message });
  process.exit(1);
}
