export * from "./changer.js";
export * from "./codec.js";
export * from "./restore.js";
