// Parsers for option and argument values. They throw commander's InvalidArgumentError, which
// commander turns into "error: option '--limit <n>' argument 'x' is invalid. <reason>" and the
// client commands turn into exit code 2 (bad usage).
import { InvalidArgumentError } from "commander";

/** A non-negative safe integer, decimal. */
export function nonNegativeInt(text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new InvalidArgumentError("Expected a non-negative integer.");
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("The number is too large.");
  return n;
}

/** A positive safe integer, decimal. */
export function positiveInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || /^0+$/.test(text.trim())) {
    throw new InvalidArgumentError("Expected a positive integer.");
  }
  return nonNegativeInt(text);
}

/**
 * A lease id: decimal, or hexadecimal with 0x (etcdctl prints lease ids in hex; d-engine prints
 * them in decimal, and accepts both).
 */
export function leaseId(text: string): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t)
    ? Number.parseInt(t.slice(2), 16)
    : /^\d+$/.test(t)
      ? Number(t)
      : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError("Expected a lease id (a positive integer, decimal or 0x hex).");
  }
  return n;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration: "500ms", "5s", "2m", "1h", "1.5s"; a bare number is seconds. Returns ms (> 0). */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError('Expected a duration such as "500ms", "5s" or "2m".');
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? "s"] as number));
  if (!(ms > 0) || !Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError("Expected a duration greater than zero.");
  }
  return ms;
}
