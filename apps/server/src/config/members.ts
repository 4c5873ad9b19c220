// The initial cluster as one string, for environment variables and flags:
// "1=127.0.0.1:9081,2=127.0.0.1:9082,3=127.0.0.1:9083".

export class MemberSpecError extends Error {}

/**
 * Splits the spec into {id, address} entries. Ids that are not decimal integers are kept as
 * written, so the schema reports them with the same message as a bad id in a config file.
 */
export function parseMemberSpec(spec: string): { id: number | string; address: string }[] {
  const entries = spec
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (entries.length === 0) {
    throw new MemberSpecError(`must list id=host:port entries separated by commas (got "${spec}")`);
  }
  return entries.map((entry, i) => {
    const eq = entry.indexOf("=");
    if (eq < 0) {
      throw new MemberSpecError(
        `must list id=host:port entries separated by commas (entry ${i + 1} is "${entry}")`,
      );
    }
    const idText = entry.slice(0, eq).trim();
    return {
      id: /^\d+$/.test(idText) ? Number(idText) : idText,
      address: entry.slice(eq + 1).trim(),
    };
  });
}

export function formatMemberSpec(members: readonly { id: number; address: string }[]): string {
  return members.map((m) => `${m.id}=${m.address}`).join(",");
}
