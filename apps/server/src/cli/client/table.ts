// A plain-text table for terminal output: a header row, columns padded with two spaces, numbers
// right-aligned. Written here rather than taken from a library (cli-table3, table) because those
// draw boxes and pull in dependencies for what is thirty lines; plain columns also survive
// `grep`, `cut` and copy-paste. Width is counted in UTF-16 code units, so East Asian wide
// characters misalign a little; values are never truncated.

export interface Column {
  readonly header: string;
  /** "right" for numbers (default "left"). */
  readonly align?: "left" | "right";
}

export type Cell = string | number | boolean | undefined;

function cellText(c: Cell): string {
  if (c === undefined) return "";
  if (typeof c === "boolean") return c ? "yes" : "no";
  return String(c);
}

/** Formats rows under the columns' headers; ends with a newline. No rows: the header alone. */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly Cell[])[],
): string {
  const texts = rows.map((r) => columns.map((_, i) => cellText(r[i])));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...texts.map((t) => (t[i] as string).length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((t, i) =>
        columns[i]?.align === "right"
          ? t.padStart(widths[i] as number)
          : t.padEnd(widths[i] as number),
      )
      .join("  ")
      // No trailing spaces after the last non-empty cell.
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...texts.map(line)].join("\n").concat("\n");
}
