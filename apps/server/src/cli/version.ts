// The server's version, from its package.json (the same relative path from src/ and dist/).
import { readFileSync } from "node:fs";

export function serverVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}
