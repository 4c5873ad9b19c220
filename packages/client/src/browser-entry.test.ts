// The browser entry must not pull in anything Node-only: this walks its whole import graph (our
// sources, then every package file they reach, resolved with the "browser" / "import" export
// conditions a bundler uses) and fails on any node: import or Node built-in.
import { readFileSync, realpathSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = dirname(fileURLToPath(import.meta.url));
const CONDITIONS = ["browser", "import", "default"];
const BUILTINS = new Set(builtinModules);

/** Static and dynamic import specifiers, without type-only ones (they are erased). */
function specifiers(code: string): string[] {
  const out: string[] = [];
  const patterns = [
    /(?:^|[\s;])(?:import|export)\s+(?!type\s)[^'"`;]*?\sfrom\s*["']([^"']+)["']/g,
    /(?:^|[\s;])import\s*["']([^"']+)["']/g,
    /import\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1] as string);
  return out;
}

function pickCondition(target: unknown): string | undefined {
  if (typeof target === "string") return target;
  if (target && typeof target === "object") {
    for (const [k, v] of Object.entries(target)) {
      if (CONDITIONS.includes(k)) {
        const r = pickCondition(v);
        if (r) return r;
      }
    }
  }
  return undefined;
}

function resolvePackage(spec: string, fromFile: string): string {
  const parts = spec.split("/");
  const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
  const sub = `.${spec.slice(name.length)}`;
  let dir = dirname(fromFile);
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    try {
      const root = realpathSync(candidate);
      const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
      const exp = pkg.exports;
      let target: string | undefined;
      if (exp) {
        const entry =
          typeof exp === "string" || !Object.keys(exp).some((k) => k.startsWith("."))
            ? sub === "."
              ? exp
              : undefined
            : exp[sub];
        target = pickCondition(entry);
      } else {
        target = sub === "." ? (pkg.module ?? pkg.main ?? "index.js") : sub;
      }
      if (!target) throw new Error(`${spec}: no export for ${sub} under ${CONDITIONS.join("/")}`);
      return resolve(root, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot resolve ${spec} from ${fromFile}`);
    dir = up;
  }
}

/** Every file reachable from `entry`, and every Node-only import found on the way. */
function walk(entry: string): { files: Set<string>; nodeImports: string[] } {
  const files = new Set<string>();
  const nodeImports: string[] = [];
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (
        spec.startsWith("node:") ||
        BUILTINS.has(spec) ||
        BUILTINS.has(spec.split("/")[0] as string)
      ) {
        nodeImports.push(`${file}: ${spec}`);
        continue;
      }
      if (spec.startsWith(".")) {
        let target = resolve(dirname(file), spec);
        // Our sources import "./x.js" for "./x.ts".
        if (file.endsWith(".ts") && target.endsWith(".js")) target = target.replace(/\.js$/, ".ts");
        todo.push(target);
      } else {
        todo.push(resolvePackage(spec, file));
      }
    }
  }
  return { files, nodeImports };
}

describe("the browser entry", () => {
  it("imports nothing Node-only", () => {
    const { files, nodeImports } = walk(join(SRC, "browser.ts"));
    expect(nodeImports).toEqual([]);
    // The walk did reach the libraries (so an empty list means something).
    const reached = [...files].join("\n");
    expect(reached).toContain("connect-web");
    expect(reached).toContain("@bufbuild");
    expect(reached).toMatch(/proto[/\\]dist[/\\]api\.js/);
    expect(files.size).toBeGreaterThan(50);
  });

  it("the check does catch Node imports (the Node entry has them)", () => {
    const { nodeImports } = walk(join(SRC, "node.ts"));
    expect(nodeImports.some((s) => s.endsWith("node:http2"))).toBe(true);
  });
});
