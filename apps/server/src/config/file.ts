// Reads a configuration file: TOML (.toml) or YAML (.yaml, .yml), chosen by the extension.
// Errors name the file as the operator gave it and, for syntax errors, the line and column.
import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { ConfigError, show } from "./issues.js";
import { isPlainObject } from "./merge.js";

export function fileOrigin(file: string): string {
  return `config file ${file}`;
}

/** The file's settings as a nested object (not yet validated). Throws ConfigError. */
export function readConfigFile(file: string, cwd: string): Record<string, unknown> {
  const origin = fileOrigin(file);
  const fail = (message: string): never => {
    throw new ConfigError([{ origin, message }]);
  };
  const ext = extname(file).toLowerCase();
  if (ext !== ".toml" && ext !== ".yaml" && ext !== ".yml") {
    fail(`unknown format "${ext || "(no extension)"}": name it *.toml, *.yaml or *.yml`);
  }
  let text = "";
  try {
    text = readFileSync(resolve(cwd, file), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(code === "ENOENT" ? "no such file" : `cannot be read (${code ?? String(e)})`);
  }
  let parsed: unknown;
  try {
    // YAML 1.2 core schema; a duplicate key is an error there (yaml's default), as in TOML.
    parsed = ext === ".toml" ? parseToml(text) : parseYaml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const what = firstLine(e.message).replace(/^Invalid TOML document: /, "");
      fail(`invalid TOML at line ${e.line}, column ${e.column}: ${what}`);
    }
    if (e instanceof YAMLParseError) {
      const pos = e.linePos?.[0];
      const what = firstLine(e.message)
        .replace(/ at line \d+, column \d+:?$/, "")
        .trim();
      fail(`invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ""}: ${what}`);
    }
    fail(`cannot be parsed: ${e instanceof Error ? e.message : String(e)}`);
  }
  // An empty YAML document is null: no settings.
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) {
    fail(`must hold a table of settings at the top level (got ${show(parsed)})`);
  }
  return parsed as Record<string, unknown>;
}

function firstLine(s: string): string {
  return s.split("\n", 1)[0] ?? s;
}
