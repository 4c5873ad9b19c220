// Stores report what recovery did (a torn tail cut off, leftovers removed) through the core's
// Logger interface; by default warnings go to stderr, because an operator should see them.
import type { Logger } from "@d-engine/core";

export const STDERR_LOGGER: Logger = {
  debug() {},
  info() {},
  warn(msg: string) {
    console.warn(`d-engine storage: ${msg}`);
  },
};
