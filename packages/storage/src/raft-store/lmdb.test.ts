// The conformance suite on the lmdb backend.
import { describeConformance } from "./conformance.js";
import { lmdbBackend } from "./testing/backends.js";

describeConformance(lmdbBackend);
