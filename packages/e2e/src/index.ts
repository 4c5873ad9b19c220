// Test support for end-to-end tests: real server processes on loopback.
export * from "./cli-process.js";
export * from "./cluster.js";
export * from "./ports.js";
export * from "./server-process.js";
export * from "./wait.js";
