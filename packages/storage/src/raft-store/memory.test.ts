// The conformance suite on the memory backend.
import { describeConformance } from "./conformance.js";
import { memoryBackend } from "./testing/backends.js";

describeConformance(memoryBackend);
