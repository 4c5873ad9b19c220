import { runConformance } from "./conformance.js";
import { openMemoryKv } from "./memory/memory-kv.js";

runConformance({ name: "memory", open: async () => openMemoryKv() });
