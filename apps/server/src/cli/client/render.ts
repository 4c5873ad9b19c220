// Keys and values for people and for programs. Keys and values are bytes. In tables they are
// shown as text when they are UTF-8, with control characters (and bytes that are not UTF-8)
// escaped as \n, \t, \xNN. In JSON a field holds the text when the bytes are valid UTF-8;
// otherwise the field is named <field>Base64 and holds the bytes in base64, so JSON output is
// exact for any key and value.
import type { KeyValue } from "@d-engine/client";
import { formatTable } from "./table.js";

const strict = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text, or undefined when they are not valid UTF-8. */
export function utf8(b: Uint8Array): string | undefined {
  try {
    return strict.decode(b);
  } catch {
    return undefined;
  }
}

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const hex2 = (n: number): string => n.toString(16).padStart(2, "0");

/** The bytes for a table cell: one line, printable. */
export function displayBytes(b: Uint8Array): string {
  const s = utf8(b);
  if (s !== undefined) {
    // C0 and C1 controls and DEL; a backslash is doubled so that escapes stay unambiguous.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    return s.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (c) =>
      c === "\\" ? "\\\\" : (NAMED[c] ?? `\\x${hex2(c.charCodeAt(0))}`),
    );
  }
  let out = "";
  for (const byte of b) {
    if (byte >= 0x20 && byte < 0x7f) out += byte === 0x5c ? "\\\\" : String.fromCharCode(byte);
    else out += `\\x${hex2(byte)}`;
  }
  return out;
}

/** Adds `name` (UTF-8 text) or `nameBase64` to a JSON object. */
export function putBytes(into: Record<string, unknown>, name: string, b: Uint8Array): void {
  const s = utf8(b);
  if (s !== undefined) into[name] = s;
  else into[`${name}Base64`] = Buffer.from(b).toString("base64");
}

export interface KvJsonOptions {
  readonly keysOnly?: boolean;
}

/** One key-value for JSON output. */
export function kvJson(kv: KeyValue, opts: KvJsonOptions = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  putBytes(o, "key", kv.key);
  if (!opts.keysOnly) putBytes(o, "value", kv.value);
  o.createRevision = kv.createRevision;
  o.modRevision = kv.modRevision;
  o.version = kv.version;
  o.lease = kv.lease;
  return o;
}

const KV_COLUMNS = [
  { header: "KEY" },
  { header: "VALUE" },
  { header: "CREATE-REV", align: "right" },
  { header: "MOD-REV", align: "right" },
  { header: "VERSION", align: "right" },
  { header: "LEASE", align: "right" },
] as const;

/** Key-values as a table (without the VALUE column for keys-only reads). */
export function kvTable(kvs: readonly KeyValue[], opts: KvJsonOptions = {}): string {
  const cols = opts.keysOnly ? KV_COLUMNS.filter((c) => c.header !== "VALUE") : KV_COLUMNS;
  return formatTable(
    cols,
    kvs.map((kv) => [
      displayBytes(kv.key),
      ...(opts.keysOnly ? [] : [displayBytes(kv.value)]),
      kv.createRevision,
      kv.modRevision,
      kv.version,
      kv.lease || "",
    ]),
  );
}

/** "1 key" / "3 keys". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
