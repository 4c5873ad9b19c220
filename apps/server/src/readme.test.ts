// The README's configuration reference must list every setting with its real default,
// environment variable and flag: the settings list is the source, the README its documentation.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULTS, SETTINGS } from "./config/index.js";
import { getPath } from "./config/paths.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const rows = new Map(
  readme
    .split("\n")
    .filter((l) => l.startsWith("| `"))
    .map((l) => [l.split("|")[1]!.trim().replace(/`/g, ""), l] as const),
);

describe("README configuration reference", () => {
  it.each(SETTINGS.map((s) => [s.path, s] as const))("%s", (_, s) => {
    const row = rows.get(s.path);
    expect(row, `no row for ${s.path}`).toBeDefined();
    const cells = row!.split("|").map((c) => c.trim());
    const dflt = getPath(DEFAULTS, s.path);
    if (dflt !== undefined) expect(cells[2]).toBe(`\`${JSON.stringify(dflt)}\``);
    expect(cells[3]).toBe(`\`${s.env}\``);
    expect(cells[4]).toContain(`\`${s.flag}`);
    if (s.kind === "bool") expect(cells[4]).toContain(`--no-${s.flag.slice(2)}`);
    for (const c of s.choices ?? []) expect(cells[5]).toContain(`\`${c}\``);
  });

  it("has no rows for settings that do not exist", () => {
    const known = new Set(SETTINGS.map((s) => s.path));
    const settingRows = [...rows.keys()].filter((k) => /^[a-z]+\.[A-Za-z]+$/.test(k));
    expect(settingRows.filter((k) => !known.has(k))).toEqual([]);
  });
});
