// The core must stay pure (DESIGN.md principle 1): no I/O, no clock, no timers, no Promises,
// no Math.random and no runtime dependencies. This test fails the build if any creep in.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const pkgDir = join(import.meta.dirname, "..");
const srcDir = join(pkgDir, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

/** Removes comments and string contents so that prose about, say, Promises does not trip the scan. */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/[^\n]*/g, "")
    .replace(/`(?:[^`\\]|\\.)*`/g, "``")
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
}

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bfrom\s+["']node:/, "a node: import"],
  [/\brequire\s*\(/, "require()"],
  [/\bimport\s*\(/, "a dynamic import"],
  [/\bDate\b/, "the wall clock (Date)"],
  [/\bperformance\b/, "a clock (performance)"],
  [/\bprocess\b/, "the process object"],
  [
    /\b(setTimeout|setInterval|setImmediate|queueMicrotask|clearTimeout|clearInterval)\b/,
    "a timer",
  ],
  [/\bPromise\b/, "a Promise"],
  [/\basync\b/, "an async function"],
  [/\bawait\b/, "await"],
  [/\bMath\.random\b/, "Math.random"],
  [/\bcrypto\b/, "crypto"],
];

describe("core purity", () => {
  const files = sourceFiles(srcDir);

  it("has source files to check", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it("uses no I/O, clock, timers, Promises or Math.random", () => {
    const violations: string[] = [];
    for (const file of files) {
      const raw = readFileSync(file, "utf8");
      // Imports keep their module string, so check them before strings are blanked.
      const imports = raw.match(/^\s*import[^;]*from\s+["'][^"']+["']/gm) ?? [];
      for (const line of imports) {
        const spec = /["']([^"']+)["']/.exec(line)?.[1] ?? "";
        const testOnly = file.endsWith(".test.ts") && spec === "vitest";
        if (!spec.startsWith(".") && !testOnly)
          violations.push(`${relative(pkgDir, file)}: imports "${spec}"`);
      }
      const code = codeOnly(raw);
      for (const [pattern, what] of FORBIDDEN) {
        if (pattern.test(code)) violations.push(`${relative(pkgDir, file)}: uses ${what}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("has no runtime dependencies", () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.peerDependencies ?? {}).toEqual({});
  });

  it("detects a forbidden construct (self-check of the scanner)", () => {
    const sample = codeOnly(
      '// Promise in a comment is fine\nconst t = Date.now(); const s = "async";',
    );
    expect(FORBIDDEN.filter(([p]) => p.test(sample)).map(([, w]) => w)).toEqual([
      "the wall clock (Date)",
    ]);
  });
});
