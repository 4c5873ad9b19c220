// Human-readable operations and histories, for failure reports.

import type { KvOutput, Operation } from "./history.js";

function showValue(value: string | null): string {
  return value === null ? "absent" : JSON.stringify(value);
}

function showOutput(output: KvOutput): string {
  switch (output.kind) {
    case "value":
      return showValue(output.value);
    case "swapped":
      return output.ok ? "swapped" : "not swapped";
    case "ok":
      return "ok";
    case "unknown":
      return "unknown";
  }
}

/** One operation without its timing, e.g. `get k1 -> "a"` or `cas k1 absent => "b" -> swapped`. */
export function describeOperation(op: Operation): string {
  const { input, key } = op;
  let call: string;
  switch (input.op) {
    case "put":
      call = `put ${key} ${showValue(input.value)}`;
      break;
    case "get":
      call = `get ${key}`;
      break;
    case "cas":
      call = `cas ${key} ${showValue(input.expect)} => ${showValue(input.value)}`;
      break;
    case "delete":
      call = `delete ${key}`;
      break;
  }
  return `${call} -> ${showOutput(op.output)}`;
}

/**
 * The operations as aligned lines sorted by invocation time, e.g.
 * `client 2  [t=10 .. t=14]  get k1 -> "a"`; an unknown outcome shows its end as `?`.
 */
export function formatHistory(ops: readonly Operation[]): string {
  const sorted = [...ops].sort((a, b) => a.invoke - b.invoke || a.id - b.id);
  const rows = sorted.map((op) => {
    const end = op.output.kind === "unknown" ? "?" : `t=${op.complete}`;
    return [`client ${op.clientId}`, `[t=${op.invoke} .. ${end}]`, describeOperation(op)] as const;
  });
  const clientWidth = Math.max(0, ...rows.map((r) => r[0].length));
  const timeWidth = Math.max(0, ...rows.map((r) => r[1].length));
  return rows
    .map(
      ([client, time, what]) => `${client.padEnd(clientWidth)}  ${time.padEnd(timeWidth)}  ${what}`,
    )
    .join("\n");
}
