// The memory backend: the whole multi-version state in sorted maps. For tests, the simulator and
// nodes that rebuild their state from the log or a snapshot on every start.

import { KvEngine, type KvStateMachineOptions } from "../engine.js";
import { MemoryTables } from "./memory-tables.js";

export function openMemoryKv(options: KvStateMachineOptions = {}): KvEngine {
  return new KvEngine("memory", new MemoryTables(), options);
}
