export * from "./joint.js";
export * from "./majority.js";
export * from "./quorum.js";
