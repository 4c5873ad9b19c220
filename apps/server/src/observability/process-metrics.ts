// The process's own metrics (CPU, memory, event-loop delay, GC, handles) in the node's registry:
// a Raft node's timing depends on its event loop, so its delay belongs beside the Raft metrics.
// Only the server does this: a process has one set of these, and an application embedding
// several nodes chooses where (and whether) it wants them.
import { collectDefaultMetrics, type Registry } from "prom-client";

const collecting = new WeakSet<Registry>();

export function collectProcessMetrics(registry: Registry): void {
  if (collecting.has(registry)) return;
  collecting.add(registry);
  collectDefaultMetrics({ register: registry });
}
