// The scenario file format: blocks of command lines, a "----" line, then the expected output,
// ended by a blank line (or the end of the file). Lines starting with "#" outside an expected
// output are comments. Output never contains blank lines, so a blank line always ends a block.
//
//   # Node 1 campaigns.
//   campaign 1
//   ----
//   INFO [1] became candidate at term 1
//
// Arguments are words, key=value pairs, parenthesized lists "(1 2 3)" (also as values:
// "voters=(1 2 3)") and double-quoted strings.

export interface Arg {
  /** The key of key=value arguments; undefined for bare words and lists. */
  readonly key?: string;
  readonly values: readonly string[];
}

export interface Command {
  readonly name: string;
  readonly args: readonly Arg[];
  /** 1-based line number in the file. */
  readonly line: number;
  readonly text: string;
}

export interface Block {
  readonly commands: readonly Command[];
  /** 1-based line of the block's first command. */
  readonly line: number;
  readonly expected: string;
  /** 0-based line range [outStart, outEnd) of the expected output in the file. */
  readonly outStart: number;
  readonly outEnd: number;
}

export const SEPARATOR = "----";

export function parseScenario(text: string, file: string): { lines: string[]; blocks: Block[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === "" || line.startsWith("#")) {
      i++;
      continue;
    }
    const start = i;
    const commands: Command[] = [];
    while (i < lines.length && lines[i] !== SEPARATOR) {
      const l = lines[i] as string;
      if (l.trim() === "") {
        throw new Error(`${file}:${i + 1}: blank line before "${SEPARATOR}" in a command block`);
      }
      if (!l.startsWith("#")) commands.push(parseCommand(l, i + 1, file));
      i++;
    }
    if (i >= lines.length)
      throw new Error(`${file}:${start + 1}: command block without "${SEPARATOR}"`);
    i++; // the separator
    const outStart = i;
    while (i < lines.length && (lines[i] as string) !== "") i++;
    blocks.push({
      commands,
      line: start + 1,
      expected: lines.slice(outStart, i).join("\n"),
      outStart,
      outEnd: i,
    });
  }
  return { lines, blocks };
}

/** The file text with each block's expected output replaced by `outputs[i]`. */
export function rewriteScenario(
  lines: readonly string[],
  blocks: readonly Block[],
  outputs: readonly string[],
): string {
  const out: string[] = [];
  let pos = 0;
  blocks.forEach((b, i) => {
    out.push(...lines.slice(pos, b.outStart), ...(outputs[i] as string).split("\n"));
    pos = b.outEnd;
  });
  out.push(...lines.slice(pos));
  return out.join("\n");
}

export function parseCommand(line: string, lineNo: number, file: string): Command {
  const toks = tokenize(line, lineNo, file);
  const first = toks[0];
  if (!first || first.key !== undefined || first.values.length !== 1) {
    throw new Error(`${file}:${lineNo}: a command line must start with the command name`);
  }
  return { name: first.values[0] as string, args: toks.slice(1), line: lineNo, text: line.trim() };
}

function tokenize(line: string, lineNo: number, file: string): Arg[] {
  const fail = (why: string): never => {
    throw new Error(`${file}:${lineNo}: ${why}: ${line}`);
  };
  const args: Arg[] = [];
  let i = 0;
  const readValue = (): string[] => {
    const c = line[i];
    if (c === "(") {
      const end = line.indexOf(")", i);
      if (end < 0) fail("unclosed (");
      const inner = line.slice(i + 1, end);
      i = end + 1;
      return inner.split(/[\s,]+/).filter((s) => s !== "");
    }
    if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) fail('unclosed "');
      const s = line.slice(i + 1, end);
      i = end + 1;
      return [s];
    }
    const m = /^[^\s()"]+/.exec(line.slice(i));
    if (!m) return fail(`unexpected character ${JSON.stringify(c)}`);
    i += m[0].length;
    return [m[0]];
  };
  while (i < line.length) {
    if (/\s/.test(line[i] as string)) {
      i++;
      continue;
    }
    const key = /^([A-Za-z][\w-]*)=/.exec(line.slice(i));
    if (key) {
      i += key[0].length;
      args.push({ key: key[1] as string, values: readValue() });
    } else {
      args.push({ values: readValue() });
    }
  }
  return args;
}
