// Layers of settings merged in precedence order (defaults < file < environment < flags), keeping
// for every value where it came from, so an error can say "environment DENGINE_NODE_ID: ..."
// rather than only "node.id ...". Objects merge key by key; anything else (numbers, strings,
// arrays such as the initial cluster) is replaced whole by the higher layer.
import { isWithin, parentPath } from "./paths.js";

export interface Origin {
  /** How an error names it: "default", "config file d-engine.toml", "flag --id". */
  readonly label: string;
  /** The layer's precedence: 0 for defaults, higher wins. */
  readonly rank: number;
}

export interface Layer {
  readonly values: Record<string, unknown>;
  readonly rank: number;
  /** The origin of the value at a path (file layers: the same for all). */
  originOf(path: string): string;
}

export class Merged {
  readonly values: Record<string, unknown> = {};
  private readonly origins = new Map<string, Origin>();

  add(layer: Layer): void {
    this.mergeInto(this.values, layer.values, "", layer);
  }

  /** Records where a value derived from other settings came from. */
  setOrigin(path: string, origin: Origin): void {
    this.origins.set(path, origin);
  }

  /**
   * Where the value at `path` came from: the path itself or its nearest enclosing value; for an
   * object assembled from several layers, the highest-precedence layer inside it.
   */
  originOf(path: string): Origin | undefined {
    for (let p = path; ; p = parentPath(p)) {
      const found = this.origins.get(p);
      if (found) return found;
      if (p === "") break;
    }
    let best: Origin | undefined;
    for (const [p, origin] of this.origins) {
      if (isWithin(p, path) && (!best || origin.rank > best.rank)) best = origin;
    }
    return best;
  }

  private mergeInto(
    target: Record<string, unknown>,
    source: Record<string, unknown>,
    prefix: string,
    layer: Layer,
  ): void {
    for (const key of Object.keys(source)) {
      const value = source[key];
      if (value === undefined) continue;
      const path = prefix === "" ? key : `${prefix}.${key}`;
      const existing = Object.hasOwn(target, key) ? target[key] : undefined;
      if (isPlainObject(value) && isPlainObject(existing)) {
        this.mergeInto(existing, value, path, layer);
        continue;
      }
      defineOwn(target, key, cloneDeep(value));
      for (const p of [...this.origins.keys()]) if (isWithin(p, path)) this.origins.delete(p);
      this.origins.set(path, { label: layer.originOf(path), rank: layer.rank });
    }
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// Parsed files may hold a key named "__proto__" as an own property; plain assignment would set
// the prototype instead of keeping it for the schema to reject as an unknown setting.
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function cloneDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneDeep);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) defineOwn(out, key, cloneDeep(v[key]));
    return out;
  }
  return v;
}
