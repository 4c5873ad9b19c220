// Builds the configuration a server runs with: defaults < config file < environment < flags,
// validated as a whole, with every error naming the setting and where its value came from.
import { resolve } from "node:path";
import { type CrossIssue, checkConfig, defaultMetricsListen } from "./checks.js";
import { DEFAULTS } from "./defaults.js";
import { fileOrigin, readConfigFile } from "./file.js";
import { ConfigError, type ConfigIssue, describeZodIssue } from "./issues.js";
import { MemberSpecError, parseMemberSpec } from "./members.js";
import { isPlainObject, type Layer, Merged, type Origin } from "./merge.js";
import { setPath } from "./paths.js";
import { configSchema, type ServerConfig } from "./schema.js";
import { CONFIG_ENV, flagAttribute, SETTINGS, type Setting } from "./settings.js";
import { parseSettingText } from "./values.js";

export interface ConfigSources {
  /** The config file from --config (wins over DENGINE_CONFIG). */
  readonly configFile?: string;
  /** Usually process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Parsed flags keyed as commander names them (flagAttribute); strings, or booleans for switches. */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** Relative paths (the config file, the data dir) resolve against this. */
  readonly cwd?: string;
}

export interface LoadedConfig {
  readonly config: ServerConfig;
  /** The config file read, as given, if any. */
  readonly configFile: string | undefined;
  /** Things worth logging that are not errors (an unknown DENGINE_* variable). */
  readonly warnings: readonly string[];
  /** Where the value of a setting came from ("default", "flag --id", ...). */
  originOf(path: string): string;
}

const DEFAULT_ORIGIN = "default";
const FALLBACK_ORIGIN = "configuration";

/** Throws ConfigError listing every problem found. */
export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const env = sources.env ?? {};
  const flags = sources.flags ?? {};
  const cwd = sources.cwd ?? process.cwd();
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const merged = new Merged();

  merged.add({ values: DEFAULTS, rank: 0, originOf: () => DEFAULT_ORIGIN });

  const configFile = nonEmpty(sources.configFile) ?? nonEmpty(env[CONFIG_ENV]);
  if (configFile !== undefined) {
    const values = readConfigFile(configFile, cwd);
    issues.push(...normalizeFileMembers(values, fileOrigin(configFile)));
    merged.add({ values, rank: 1, originOf: () => fileOrigin(configFile) });
  }

  const envLayer = layerFrom(2, issues, (s) => {
    const text = nonEmpty(env[s.env]);
    return text === undefined ? undefined : { text, origin: `environment ${s.env}` };
  });
  merged.add(envLayer);
  // DENGINE_ENDPOINTS belongs to the terminal client; a shell that sets it may also start a node.
  const known = new Set([CONFIG_ENV, "DENGINE_ENDPOINTS", ...SETTINGS.map((s) => s.env)]);
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith("DENGINE_") && !known.has(name)) {
      warnings.push(`environment ${name} is not a d-engine server setting; ignored`);
    }
  }

  merged.add(
    layerFrom(3, issues, (s) => {
      const value = flags[flagAttribute(s.flag)];
      if (value === undefined) return undefined;
      if (typeof value === "boolean") {
        return { value, origin: value ? `flag ${s.flag}` : `flag --no-${s.flag.slice(2)}` };
      }
      return { text: String(value), origin: `flag ${s.flag}` };
    }),
  );

  const originLabel = (path: string) => merged.originOf(path)?.label ?? FALLBACK_ORIGIN;

  const parsed = configSchema.safeParse(merged.values, { reportInput: true });
  if (!parsed.success) {
    for (const zodIssue of parsed.error.issues) {
      for (const { path, message } of describeZodIssue(zodIssue)) {
        issues.push({ origin: originLabel(path), message });
      }
    }
  }
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  const c = parsed.data;

  // Defaults that depend on other settings.
  const advertiseDerived = c.node.advertise === undefined;
  const advertise = c.node.advertise ?? c.node.listen;
  if (advertiseDerived) {
    merged.setOrigin("node.advertise", merged.originOf("node.listen") ?? defaultOrigin());
  }
  const initialDerived = c.cluster.initial === undefined;
  const initial =
    c.cluster.initial ?? (c.cluster.join ? [] : [{ id: c.node.id, address: advertise }]);

  const metricsListen = c.metrics.listen ?? defaultMetricsListen(c.node.listen);
  if (c.metrics.listen === undefined) {
    merged.setOrigin("metrics.listen", merged.originOf("node.listen") ?? defaultOrigin());
  }
  const cross = checkConfig(c, {
    advertise,
    advertiseDerived,
    initial,
    initialDerived,
    metricsListen,
  });
  if (cross.length > 0) {
    throw new ConfigError(
      cross.map((x) => ({ origin: crossOrigin(merged, x), message: x.message })),
    );
  }

  if (c.cluster.join && !initialDerived) {
    warnings.push(
      `cluster.initial (from ${originLabel("cluster.initial")}) is ignored: a node that joins (cluster.join) starts empty and is added by the leader`,
    );
  }

  const config: ServerConfig = {
    ...c,
    node: { ...c.node, advertise, dataDir: resolve(cwd, c.node.dataDir) },
    cluster: { initial, join: c.cluster.join },
    // Checked above: defined unless checkConfig reported it.
    metrics: { listen: metricsListen as string },
  };
  return { config, configFile, warnings, originOf: originLabel };
}

function defaultOrigin(): Origin {
  return { label: DEFAULT_ORIGIN, rank: 0 };
}

/**
 * For a rule between settings: the sources that set any of them, highest precedence first
 * ("flag --heartbeat-ticks and config file d-engine.toml"); defaults are named only when every
 * value involved is a default.
 */
function crossOrigin(merged: Merged, issue: CrossIssue): string {
  const origins = issue.paths
    .map((p) => merged.originOf(p))
    .filter((o): o is Origin => o !== undefined)
    .sort((a, b) => b.rank - a.rank);
  const set = origins.filter((o) => o.rank > 0);
  const labels = [...new Set((set.length > 0 ? set : origins).map((o) => o.label))];
  return labels.length > 0 ? labels.join(" and ") : FALLBACK_ORIGIN;
}

/** A layer of environment variables or flags; text values are parsed per setting. */
function layerFrom(
  rank: number,
  issues: ConfigIssue[],
  read: (s: Setting) => { text?: string; value?: unknown; origin: string } | undefined,
): Layer {
  const values: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  for (const setting of SETTINGS) {
    const found = read(setting);
    if (!found) continue;
    try {
      const value = found.text !== undefined ? parseSettingText(setting, found.text) : found.value;
      setPath(values, setting.path, value);
      origins.set(setting.path, found.origin);
    } catch (e) {
      if (!(e instanceof MemberSpecError)) throw e;
      issues.push({ origin: found.origin, message: `${setting.path} ${e.message}` });
    }
  }
  return { values, rank, originOf: (path) => origins.get(path) ?? FALLBACK_ORIGIN };
}

/** A config file may give the initial cluster as a spec string, like the environment does. */
function normalizeFileMembers(values: Record<string, unknown>, origin: string): ConfigIssue[] {
  const cluster = values.cluster;
  if (!isPlainObject(cluster) || typeof cluster.initial !== "string") return [];
  try {
    cluster.initial = parseMemberSpec(cluster.initial);
    return [];
  } catch (e) {
    if (!(e instanceof MemberSpecError)) throw e;
    delete cluster.initial;
    return [{ origin, message: `cluster.initial ${e.message}` }];
  }
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === "" ? undefined : s;
}
