// `d-engine start`: load the configuration (errors: one line each on stderr, exit code 2, no
// stack trace), then run the node until a signal stops it.
import { ConfigError, formatIssue, type LoadedConfig, loadConfig } from "../config/index.js";
import { createLogger } from "../log/logger.js";
import { type LifecycleDeps, runServer } from "../node/lifecycle.js";
import type { StartRequest } from "./program.js";

/** The exit code for a configuration that does not validate. */
export const EXIT_CONFIG = 2;

export interface StartEnvironment extends LifecycleDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stderr: { write(s: string): unknown };
}

/** Resolves with the process's exit code. */
export async function runStart(request: StartRequest, e: StartEnvironment): Promise<number> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({
      configFile: request.configFile,
      env: e.env,
      flags: request.flags,
      cwd: e.cwd,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    e.stderr.write(err.issues.map((i) => `d-engine: ${formatIssue(i)}\n`).join(""));
    return EXIT_CONFIG;
  }
  const { config } = loaded;
  const logger = createLogger({
    level: config.log.level,
    nodeId: config.node.id,
    clusterId: config.node.clusterId,
  });
  for (const w of loaded.warnings) logger.warn(w);
  logger.info(
    { configFile: loaded.configFile ?? null, dataDir: config.node.dataDir },
    `starting node ${config.node.id}${loaded.configFile ? ` with ${loaded.configFile}` : ""}`,
  );
  return runServer(config, logger, e);
}
