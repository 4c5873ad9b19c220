// Byte helpers for tests and tools. The core has no TextEncoder (it targets plain ES2022, no DOM
// or Node types), and test payloads are ASCII, so these map chars to bytes one to one.

/** Encodes an ASCII string as bytes (one byte per character). */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}

/** Decodes bytes as ASCII (one character per byte). */
export function fromAscii(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}
