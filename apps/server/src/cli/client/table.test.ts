import { describe, expect, it } from "vitest";
import { formatTable } from "./table.js";

describe("formatTable", () => {
  it("pads columns to the widest cell, right-aligns numbers, leaves no trailing spaces", () => {
    const t = formatTable(
      [{ header: "KEY" }, { header: "REV", align: "right" }, { header: "NOTE" }],
      [
        ["a", 7, "x"],
        ["longer-key", 12345, ""],
      ],
    );
    expect(t).toBe(
      ["KEY           REV  NOTE", "a               7  x", "longer-key  12345", ""].join("\n"),
    );
  });

  it("prints the header alone when there are no rows; booleans as yes/no, undefined empty", () => {
    expect(formatTable([{ header: "A" }, { header: "B" }], [])).toBe("A  B\n");
    expect(
      formatTable(
        [{ header: "A" }, { header: "B" }],
        [
          [true, undefined],
          [false, "z"],
        ],
      ),
    ).toBe("A    B\nyes\nno   z\n");
  });
});
