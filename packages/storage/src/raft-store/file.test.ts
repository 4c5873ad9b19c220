// The conformance suite on the file backend.
import { describeConformance } from "./conformance.js";
import { fileBackend } from "./testing/backends.js";

describeConformance(fileBackend);
