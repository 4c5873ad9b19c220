// What the transport logs through: pino-shaped (fields first, then the message), so the server
// can pass its pino logger as is.
export interface TransportLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info?(fields: Record<string, unknown>, message: string): void;
  debug?(fields: Record<string, unknown>, message: string): void;
}

/** Logs warnings to the console (the default when no logger is given). */
export const consoleLogger: TransportLogger = {
  warn: (fields, message) => console.warn(`[d-engine transport] ${message}`, fields),
};

/** Logs nothing. */
export const silentLogger: TransportLogger = { warn: () => {} };
