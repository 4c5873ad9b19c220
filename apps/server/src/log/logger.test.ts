// Every log line carries the node and cluster ids, and the current term once the node runs,
// including lines of child loggers made before the term was known.
import { Writable } from "node:stream";
import { expect, it } from "vitest";
import { createLogger, logTerm } from "./logger.js";

it("adds the current term to every line once a source is set", () => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n")) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const logger = createLogger({ level: "info", nodeId: 3, clusterId: "c", destination });
  const child = logger.child({ component: "engine" });
  logger.info("before");
  let term = 5;
  expect(logTerm(logger, () => term)).toBe(true);
  logger.info("after");
  term = 6;
  child.info("child");
  expect(lines.map((l) => [l.msg, l.nodeId, l.clusterId, l.term])).toEqual([
    ["before", 3, "c", undefined],
    ["after", 3, "c", 5],
    ["child", 3, "c", 6],
  ]);
  expect(logTerm(child, () => 1)).toBe(false);
});
