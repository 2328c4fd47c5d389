/**
 * Structured logs: one JSON object per line on the console, filtered by the
 * configured level. Small on purpose; the HTTP layer adds the request id.
 */

/** Levels from the most to the least verbose; `silent` logs nothing. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LineLevel = Exclude<LogLevel, "silent">;

/** Where lines go; the level lets a buffering sink write warnings and errors at once. */
export type LineWriter = (line: string, level: LineLevel) => void;

export function createLogger(level: LogLevel, write: LineWriter = (line) => console.log(line)): Logger {
  const emit = (at: LineLevel, message: string, fields?: LogFields) => {
    if (RANK[at] < RANK[level]) return;
    write(
      JSON.stringify({ time: new Date().toISOString(), level: at, message, ...fields }, errorReplacer),
      at,
    );
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
  };
}

export const silentLogger: Logger = createLogger("silent");

// Errors have no enumerable fields; without this they log as {}.
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack, cause: value.cause };
  }
  return value;
}
