export * from "./linearizability/index.js";
export * from "./sim/index.js";
