import { VERSION } from "@d-engine/core";

console.log(VERSION);
