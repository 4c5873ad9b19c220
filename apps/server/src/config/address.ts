// host:port addresses, as settings carry them: "127.0.0.1:9081", "node-2.internal:9081",
// "[::1]:9081". Hosts are kept as written (no DNS lookup at config time: a node may start before
// its peers' names resolve).

export interface HostPort {
  /** The host without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
}

const HOST_NAME = /^[A-Za-z0-9_.-]+$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** Parses "host:port" or "[ipv6]:port" with a port from 1 to 65535; undefined if malformed. */
export function parseHostPort(text: string): HostPort | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0 || text[close + 1] !== ":") return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!IPV6.test(host) || !host.includes(":")) return undefined;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon <= 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (!HOST_NAME.test(host)) return undefined;
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** Formats a host and port back, bracketing IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** 0.0.0.0 and :: listen on every interface, but nobody can be told to connect there. */
export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || /^[0:]+$/.test(host);
}
