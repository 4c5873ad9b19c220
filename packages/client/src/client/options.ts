// What createClient accepts, in Node and in browsers.
import type { Limits } from "../limits.js";
import type { Consistency } from "../types.js";

export interface ClientOptions {
  /**
   * Where the cluster's nodes serve clients: "host:port" (http) or URLs ("https://host:port").
   * Any one reachable node is enough: the leader is discovered and redirects are followed.
   */
  readonly endpoints: readonly string[];
  /** Deadline of each call, retries included (default 5000 ms). Per call: opts.timeoutMs. */
  readonly timeoutMs?: number;
  /** Checked before sending; must match the servers' (default DEFAULT_LIMITS). */
  readonly limits?: Partial<Limits>;
  /** This client's id in write sessions (default: random). Must be unique among live clients. */
  readonly clientId?: string;
  /** Default read consistency (default: the server's default). */
  readonly consistency?: Consistency;
  /** Backoff between retries: starts at initialDelayMs, doubles, caps at maxDelayMs. */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** How long one leader discovery round may take (default 2000 ms). */
  readonly discoveryTimeoutMs?: number;
}

/** Turns "host:port" or a URL into a base URL; `scheme` for bare host:port. */
export function toBaseUrl(address: string, scheme = "http:"): string {
  const a = address.trim();
  if (/^https?:\/\//i.test(a)) return a.replace(/\/+$/, "");
  return `${scheme}//${a}`;
}
