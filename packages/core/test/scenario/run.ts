// Runs a scenario file: each block's commands against one interaction environment, comparing
// what they print with the expected output. With DENGINE_REWRITE=1 the file is rewritten with
// the actual output instead (then read the diff: the output must be right, not just new).
// The format is described in parse.ts, the rendering in print.ts, the commands in commands.ts.
import { readFileSync, writeFileSync } from "node:fs";
import { runCommand } from "./commands.js";
import { lineDiff } from "./diff.js";
import { InteractionEnv } from "./env.js";
import { type Block, parseScenario, rewriteScenario } from "./parse.js";

export const REWRITE = process.env.DENGINE_REWRITE === "1";

export function runScenarioFile(path: string, rewrite = REWRITE): void {
  const text = readFileSync(path, "utf8");
  const updated = runScenario(text, path, rewrite);
  if (rewrite && updated !== text) writeFileSync(path, updated);
}

/**
 * Runs a scenario given as text (`name` is used in messages). Throws at the first block whose
 * output differs, unless rewriting; returns the text with every block's actual output.
 */
export function runScenario(text: string, name: string, rewrite: boolean): string {
  const { lines, blocks } = parseScenario(text, name);
  const env = new InteractionEnv();
  const outputs: string[] = [];
  for (const block of blocks) {
    const actual = runBlock(env, block, name);
    outputs.push(actual);
    if (!rewrite && actual !== block.expected) {
      const cmds = block.commands.map((c) => c.text).join("; ");
      throw new Error(
        `${name}:${block.line}: output of "${cmds}" differs (- expected, + actual):\n` +
          lineDiff(block.expected, actual),
      );
    }
  }
  return rewriteScenario(lines, blocks, outputs);
}

function runBlock(env: InteractionEnv, block: Block, name: string): string {
  for (const cmd of block.commands) {
    try {
      runCommand(env, cmd);
    } catch (e) {
      const err = new Error(`${name}:${cmd.line}: ${cmd.text}: ${(e as Error).message}`);
      err.stack = `${err.message}\n${(e as Error).stack ?? ""}`;
      throw err;
    }
  }
  const out = env.takeOutput();
  // A command that prints nothing says so, so that an empty expectation is never ambiguous.
  if (out === "") return "ok";
  if (out.split("\n").some((l) => l.trim() === "")) {
    throw new Error(
      `${name}:${block.line}: output contains a blank line, which the format cannot hold`,
    );
  }
  return out;
}
