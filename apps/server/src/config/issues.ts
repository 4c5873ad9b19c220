// Configuration errors as an operator reads them: where the bad value came from, the setting's
// path, the rule and the value ("config file d-engine.toml: raft.tickMs must be >= 1 (got 0)").
import type { z } from "zod";
import { formatPath } from "./paths.js";

export interface ConfigIssue {
  /** "config file d-engine.toml", "environment DENGINE_NODE_ID", "flag --id", "default". */
  readonly origin: string;
  /** The setting, the rule and the value. */
  readonly message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.origin}: ${issue.message}`;
}

/** Thrown by loadConfig: every problem found, one per line in `message`. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
  }
}

/** A value for a message: strings quoted, structures as short JSON. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  let json: string;
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    json = String(value);
  }
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

const EXPECTED: Record<string, string> = {
  int: "an integer",
  // Every number setting is an integer; z.int() reports a non-number as expecting "number".
  number: "an integer",
  string: "a string",
  boolean: "true or false",
  object: "a table of settings",
  array: "a list",
};

/** One zod issue as (path, message) pairs: an unknown-keys issue yields one per key. */
export function describeZodIssue(issue: z.core.$ZodIssue): { path: string; message: string }[] {
  const path = formatPath(issue.path);
  const got = `(got ${show(issue.input)})`;
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const keyPath = path === "" ? key : `${path}.${key}`;
        return { path: keyPath, message: `unknown setting ${keyPath}` };
      });
    case "invalid_type":
      if (issue.input === undefined) return [{ path, message: `${path} is required` }];
      return [
        {
          path,
          message: `${path} must be ${EXPECTED[issue.expected] ?? issue.expected} ${got}`,
        },
      ];
    case "too_small": {
      if (issue.origin === "string" && Number(issue.minimum) === 1) {
        return [{ path, message: `${path} must not be empty` }];
      }
      if (issue.origin === "array") {
        return [{ path, message: `${path} must list at least ${issue.minimum} ${got}` }];
      }
      const op = issue.inclusive ? ">=" : ">";
      return [{ path, message: `${path} must be ${op} ${issue.minimum} ${got}` }];
    }
    case "too_big": {
      const op = issue.inclusive ? "<=" : "<";
      return [{ path, message: `${path} must be ${op} ${issue.maximum} ${got}` }];
    }
    case "invalid_value":
      return [
        {
          path,
          message: `${path} must be one of ${issue.values.map((v) => show(v)).join(", ")} ${got}`,
        },
      ];
    default:
      // Refinements (addresses, the cluster id pattern) carry their rule as the message.
      return [{ path, message: `${path} ${issue.message} ${got}` }];
  }
}
