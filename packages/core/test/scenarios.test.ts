// One test per scenario file under test/scenarios/. See test/scenario/run.ts for the format;
// `pnpm scenarios:rewrite` regenerates the expected outputs from the real code.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lineDiff } from "./scenario/diff.js";
import { parseScenario, rewriteScenario } from "./scenario/parse.js";
import { runScenario, runScenarioFile } from "./scenario/run.js";

const dir = join(import.meta.dirname, "scenarios");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".txt"))
  .sort();

describe("scenarios", () => {
  it("finds scenario files", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const f of files) {
    it(f, () => runScenarioFile(join(dir, f)));
  }
});

describe("scenario runner", () => {
  it("parses blocks and rewrites only their outputs", () => {
    const text = "# intro\ncmd 1\n----\nold\n\n# next\nother a=(1 2)\n----\nx\ny\n";
    const { lines, blocks } = parseScenario(text, "t.txt");
    expect(blocks.map((b) => [b.line, b.commands[0]?.name, b.expected])).toEqual([
      [2, "cmd", "old"],
      [7, "other", "x\ny"],
    ]);
    expect(blocks[1]?.commands[0]?.args).toEqual([{ key: "a", values: ["1", "2"] }]);
    expect(rewriteScenario(lines, blocks, ["new\nlines", "z"])).toBe(
      "# intro\ncmd 1\n----\nnew\nlines\n\n# next\nother a=(1 2)\n----\nz\n",
    );
  });

  it("shows a diff of expected and actual lines", () => {
    expect(lineDiff("a\nb\nc", "a\nc\nd")).toBe("  a\n- b\n  c\n+ d");
  });

  it("fails at the first differing block, naming file and line, with a diff", () => {
    const text = [
      "add-nodes 2 voters=(1) learners=(2)",
      "----",
      "ok",
      "",
      "# Status of the learner.",
      "status 2",
      "----",
      "follower term=0 vote=0 lead=0 commit=0 applied=0 first=1 last=0",
      "config: voters=(1)",
      "",
    ].join("\n");
    // Rewriting fills in the real output; running that again passes.
    const fixed = runScenario(text, "t.txt", true);
    expect(fixed).toContain("config: voters=(1) learners=(2) (this node is a learner)");
    expect(() => runScenario(fixed, "t.txt", false)).not.toThrow();
    expect(() => runScenario(text, "t.txt", false)).toThrow(
      /t\.txt:1: output of "add-nodes 2 voters=\(1\) learners=\(2\)" differs[\s\S]*- ok\n\+ INFO \[1\]/,
    );
  });

  it("rejects unknown commands and arguments with the line", () => {
    expect(() => runScenario("frobnicate 1\n----\nok\n", "t.txt", false)).toThrow(
      't.txt:1: frobnicate 1: unknown command "frobnicate"',
    );
    expect(() => runScenario("add-nodes 1 votres=(1)\n----\nok\n", "t.txt", false)).toThrow(
      "unknown arguments: votres=1",
    );
  });
});
