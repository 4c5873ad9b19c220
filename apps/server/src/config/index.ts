// The server's configuration: sources, schema, validation.
export { formatHostPort, type HostPort, isWildcardHost, parseHostPort } from "./address.js";
export { DEFAULT_PORT, DEFAULTS } from "./defaults.js";
export { ConfigError, type ConfigIssue, formatIssue } from "./issues.js";
export { type ConfigSources, type LoadedConfig, loadConfig } from "./load.js";
export { formatMemberSpec, parseMemberSpec } from "./members.js";
export type { Member, ParsedConfig, ServerConfig } from "./schema.js";
export { CONFIG_ENV, CONFIG_FLAG, flagAttribute, SETTINGS, type Setting } from "./settings.js";
