// Placeholder replaced by the benchmark; prints nothing useful yet.
import { seededRng } from "@d-engine/core";

console.log(seededRng(1).nextInt(10));
