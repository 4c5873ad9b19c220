// `d-engine txn [--file f]`: one transaction read from standard input or a file, in etcdctl's
// text format (see ../client/txn-format.ts and the README): compares, then the operations run
// when they all hold, then the ones run otherwise.
import { readFile } from "node:fs/promises";
import type { TxnOpResult } from "@d-engine/client";
import type { Command } from "commander";
import { kvJson, kvTable, plural } from "../client/render.js";
import type { ClientCommands } from "../client/run.js";
import { parseTxn } from "../client/txn-format.js";

export function registerTxn(program: Command, c: ClientCommands): void {
  const cmd = c
    .command(program, "txn", "run a transaction read from stdin or a file (format: see the README)")
    .option("-f, --file <path>", "read the transaction from this file (default: standard input)");
  c.action(cmd, async (ctx, _args, opts) => {
    const file = opts.file as string | undefined;
    const text =
      file !== undefined && file !== "-"
        ? await readFile(file, "utf8")
        : new TextDecoder().decode(await ctx.cli.readStdin());
    const txn = parseTxn(text);
    const r = await ctx.client().txn(txn);
    if (ctx.globals.json) {
      ctx.json({
        succeeded: r.succeeded,
        revision: r.revision,
        results: r.results.map(resultJson),
      });
      return;
    }
    ctx.out(`${r.succeeded ? "SUCCESS" : "FAILURE"} revision ${r.revision}\n`);
    for (const res of r.results) ctx.out(`\n${resultText(res)}`);
    return;
  });
}

function resultJson(r: TxnOpResult): Record<string, unknown> {
  switch (r.type) {
    case "put":
      return {
        type: "put",
        revision: r.revision,
        ...(r.prevKv ? { prevKv: kvJson(r.prevKv) } : {}),
      };
    case "get":
      return {
        type: "get",
        revision: r.revision,
        count: r.count,
        more: r.more,
        kvs: r.kvs.map((kv) => kvJson(kv)),
      };
    case "delete":
      return {
        type: "delete",
        revision: r.revision,
        deleted: r.deleted,
        prevKvs: r.prevKvs.map((kv) => kvJson(kv)),
      };
  }
}

function resultText(r: TxnOpResult): string {
  switch (r.type) {
    case "put":
      return `put: OK${r.prevKv ? `, previous version:\n${kvTable([r.prevKv])}` : "\n"}`;
    case "get":
      return `get: ${plural(r.kvs.length, "key")}${r.more ? " (more beyond --limit)" : ""}\n${r.kvs.length ? kvTable(r.kvs) : ""}`;
    case "delete":
      return `del: deleted ${plural(r.deleted, "key")}\n${r.prevKvs.length ? kvTable(r.prevKvs) : ""}`;
  }
}
