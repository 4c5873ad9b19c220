// Turns the text of an environment variable or a flag into a setting's raw value. Text that does
// not look like the kind is kept as text, so the schema rejects it with the same message a bad
// value in a config file gets ("raft.tickMs must be an integer (got "fast")").
import { parseMemberSpec } from "./members.js";
import type { Setting } from "./settings.js";

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** Throws MemberSpecError for a malformed initial cluster spec. */
export function parseSettingText(setting: Setting, text: string): unknown {
  switch (setting.kind) {
    case "int": {
      const t = text.trim();
      return /^[+-]?\d+$/.test(t) ? Number(t) : text;
    }
    case "bool": {
      const t = text.trim().toLowerCase();
      if (TRUE.has(t)) return true;
      if (FALSE.has(t)) return false;
      return text;
    }
    case "members":
      return parseMemberSpec(text);
    case "list":
      return text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
    case "address":
    case "enum":
      return text.trim();
    case "string":
      return text;
  }
}
