// The text format of `d-engine txn`, etcdctl's (its interactive txn, read non-interactively):
// three sections separated by one empty line each: compares, the operations run if every
// compare holds (success), and the ones run otherwise (failure). An empty section is an empty
// line. Lines starting with # are comments. Example:
//
//   mod("config/a") > 0
//   value("config/b") = "old"
//
//   put config/b "new value"
//   get --prefix config/
//
//   get config/b
//
// Compares:   <target>(<key>[, <range-end>]) <op> <operand>
//             target: value (val), version (ver), create (c), mod (m), lease; op: = != < >;
//             the operand is a string for value, an integer for the others.
// Operations: put [--lease=<id>] [--prev-kv] <key> <value>
//             get [--prefix | --from-key] [--limit=<n>] <key> [<range-end>]
//             del [--prefix | --from-key] [--prev-kv] <key> [<range-end>]   (or delete)
// Keys and values are bare words or "double-quoted" strings with the escapes \" \\ \n \r \t
// and \xNN (any byte).
import {
  type CompareResult,
  type CompareTarget,
  prefixEnd,
  type Txn,
  type TxnCompare,
  type TxnOp,
} from "@d-engine/client";
import { UsageError } from "./run.js";

const TARGETS: Readonly<Record<string, CompareTarget>> = {
  value: "value",
  val: "value",
  version: "version",
  ver: "version",
  create: "create",
  c: "create",
  mod: "mod",
  m: "mod",
  lease: "lease",
};

const encoder = new TextEncoder();
const FROM_KEY = new Uint8Array([0]);

class LineError extends Error {}

/** Parses the txn text; errors name the line. */
export function parseTxn(text: string): Txn {
  const lines = text.split(/\r?\n/);
  // A final newline does not make an empty line.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const sections: { line: number; text: string }[][] = [[]];
  lines.forEach((raw, i) => {
    const t = raw.trim();
    if (t.startsWith("#")) return;
    if (t === "") {
      sections.push([]);
      return;
    }
    (sections[sections.length - 1] as { line: number; text: string }[]).push({
      line: i + 1,
      text: t,
    });
  });
  const [compares = [], success = [], failure = [], ...rest] = sections;
  const extra = rest.flat()[0];
  if (extra) {
    throw new UsageError(
      `txn line ${extra.line}: a fourth section; the format has three (compares, success, failure) separated by one empty line each`,
    );
  }
  const at = <T>(l: { line: number; text: string }, f: (s: string) => T): T => {
    try {
      return f(l.text);
    } catch (e) {
      if (e instanceof LineError) throw new UsageError(`txn line ${l.line}: ${e.message}`);
      throw e;
    }
  };
  return {
    compare: compares.map((l) => at(l, parseCompare)),
    success: success.map((l) => at(l, parseOp)),
    failure: failure.map((l) => at(l, parseOp)),
  };
}

const STR = String.raw`"(?:[^"\\]|\\.)*"`;
const WORD = String.raw`[^\s"(),]+`;
const COMPARE = new RegExp(
  String.raw`^(\w+)\s*\(\s*(${STR}|${WORD})\s*(?:,\s*(${STR}|${WORD})\s*)?\)\s*(!=|=|<|>)\s*(${STR}|${WORD})$`,
);

function parseCompare(text: string): TxnCompare {
  const m = COMPARE.exec(text);
  if (!m) {
    throw new LineError(
      `cannot read the compare "${text}"; expected <target>(<key>) <op> <operand>, e.g. mod("k") > 0`,
    );
  }
  const [, targetName, key, end, op, operand] = m as unknown as string[];
  const target = TARGETS[(targetName as string).toLowerCase()];
  if (!target) {
    throw new LineError(
      `unknown compare target "${targetName}"; expected value, version, create, mod or lease`,
    );
  }
  const base = {
    key: unquote(key as string),
    ...(end !== undefined ? { rangeEnd: unquote(end) } : {}),
    target,
    result: op as CompareResult,
  };
  if (target === "value") return { ...base, value: unquote(operand as string) };
  const digits = (operand as string).replace(/^"(.*)"$/, "$1");
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(Number(digits))) {
    throw new LineError(`the operand of ${target} must be a non-negative integer, got ${operand}`);
  }
  return { ...base, number: Number(digits) };
}

function parseOp(text: string): TxnOp {
  const tokens = tokenize(text);
  const verb = tokens.shift()?.text ?? "";
  const flags = new Map<string, string | true>();
  const args: Uint8Array[] = [];
  for (const t of tokens) {
    if (!t.quoted && t.text.startsWith("--")) {
      const eq = t.text.indexOf("=");
      flags.set(eq < 0 ? t.text : t.text.slice(0, eq), eq < 0 ? true : t.text.slice(eq + 1));
    } else {
      args.push(t.bytes);
    }
  }
  const allow = (...names: string[]) => {
    for (const f of flags.keys()) {
      if (!names.includes(f)) {
        throw new LineError(`${verb} takes no ${f} (it takes ${names.join(", ") || "no flags"})`);
      }
    }
  };
  const argCount = (min: number, max: number, usage: string) => {
    if (args.length < min || args.length > max) throw new LineError(`usage: ${usage}`);
  };
  switch (verb.toLowerCase()) {
    case "put": {
      allow("--lease", "--prev-kv");
      argCount(2, 2, "put [--lease=<id>] [--prev-kv] <key> <value>");
      const lease = flags.get("--lease");
      let leaseId: number | undefined;
      if (lease !== undefined) {
        leaseId = typeof lease === "string" && /^\d+$/.test(lease) ? Number(lease) : Number.NaN;
        if (!Number.isSafeInteger(leaseId))
          throw new LineError("--lease needs a lease id, e.g. --lease=7");
      }
      return {
        type: "put",
        key: args[0] as Uint8Array,
        value: args[1] as Uint8Array,
        ...(leaseId !== undefined ? { lease: leaseId } : {}),
        ...(flags.has("--prev-kv") ? { prevKv: true } : {}),
      };
    }
    case "get": {
      allow("--prefix", "--from-key", "--limit");
      argCount(1, 2, "get [--prefix | --from-key] [--limit=<n>] <key> [<range-end>]");
      const limitText = flags.get("--limit");
      let limit: number | undefined;
      if (limitText !== undefined) {
        limit =
          typeof limitText === "string" && /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
        if (!Number.isSafeInteger(limit))
          throw new LineError("--limit needs a number, e.g. --limit=10");
      }
      const key = args[0] as Uint8Array;
      const rangeEnd = rangeEndOf(flags, key, args[1]);
      return {
        type: "get",
        key,
        ...(rangeEnd ? { rangeEnd } : {}),
        ...(limit !== undefined ? { limit } : {}),
      };
    }
    case "del":
    case "delete": {
      allow("--prefix", "--from-key", "--prev-kv");
      argCount(1, 2, "del [--prefix | --from-key] [--prev-kv] <key> [<range-end>]");
      const key = args[0] as Uint8Array;
      const rangeEnd = rangeEndOf(flags, key, args[1]);
      return {
        type: "delete",
        key,
        ...(rangeEnd ? { rangeEnd } : {}),
        ...(flags.has("--prev-kv") ? { prevKv: true } : {}),
      };
    }
    default:
      throw new LineError(`unknown operation "${verb}"; expected put, get or del`);
  }
}

function rangeEndOf(
  flags: ReadonlyMap<string, string | true>,
  key: Uint8Array,
  end: Uint8Array | undefined,
): Uint8Array | undefined {
  const n = [flags.has("--prefix"), flags.has("--from-key"), end !== undefined].filter(Boolean);
  if (n.length > 1) throw new LineError("give one of --prefix, --from-key or a range end");
  if (flags.has("--prefix")) return prefixEnd(key);
  if (flags.has("--from-key")) return FROM_KEY;
  return end;
}

interface Token {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly quoted: boolean;
}

/** Splits on whitespace; "double-quoted" strings may hold spaces and escapes. */
function tokenize(line: string): Token[] {
  const out: Token[] = [];
  const re = new RegExp(String.raw`\s*(${STR}|[^\s"]+)`, "y");
  let m: RegExpExecArray | null;
  let pos = 0;
  for (;;) {
    re.lastIndex = pos;
    m = re.exec(line);
    if (!m) break;
    pos = re.lastIndex;
    const t = m[1] as string;
    out.push({ text: t, bytes: unquote(t), quoted: t.startsWith('"') });
  }
  if (line.slice(pos).trim() !== "") throw new LineError(`unterminated string in "${line}"`);
  return out;
}

/** A bare word's UTF-8, or a quoted string with its escapes resolved. */
export function unquote(token: string): Uint8Array {
  if (!token.startsWith('"')) return encoder.encode(token);
  const body = token.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== "\\") {
      // A whole code point (surrogate pairs stay together).
      const cp = body.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      bytes.push(...encoder.encode(ch));
      i += ch.length - 1;
      continue;
    }
    const e = body[++i];
    if (e === "x") {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new LineError(`bad escape \\x${hex} in ${token}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (e === "n") bytes.push(10);
    else if (e === "r") bytes.push(13);
    else if (e === "t") bytes.push(9);
    else if (e === '"' || e === "\\") bytes.push((e as string).charCodeAt(0));
    else throw new LineError(`bad escape \\${e ?? ""} in ${token}`);
  }
  return new Uint8Array(bytes);
}
