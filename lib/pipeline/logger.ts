/**
 * A small leveled logger with text or JSON lines, used by the service and
 * handed to the workers' components as a `console`-like object.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "info", format: "json" });
 * log.info("listening", { url: "http://127.0.0.1:8000/" });
 * log.debug("not printed at info");
 * ```
 * @module
 */

/** The log levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** A log level; a logger writes its level and the more severe ones. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The log line formats: plain text or one JSON object per line. */
export const LOG_FORMATS = ["text", "json"] as const;

/** A log line format. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level printed. Default "info". */
  level?: LogLevel;
  /** "text" (default) or "json" (one object per line). */
  format?: LogFormat;
  /** Where lines go. Default `console.error` (stderr), keeping stdout for the URL. */
  write?: (line: string) => void;
}

/**
 * A console-like logger. Each call prints one line made of its arguments joined
 * by spaces (strings as they are, errors as their stack, anything else as JSON),
 * unless its level is below the logger's.
 *
 * @example
 * ```ts
 * import { createLogger, type Logger } from "./logger.ts";
 * const log: Logger = createLogger({ level: "debug" });
 * log.error("snapshot failed", new Error("HTTP 503"));
 * ```
 */
export interface Logger {
  /** Log detail useful when investigating a problem. */
  debug(...args: unknown[]): void;
  /** Log a normal event (start, stop, connection). */
  info(...args: unknown[]): void;
  /** Log something unexpected the service recovers from. */
  warn(...args: unknown[]): void;
  /** Log a failure. */
  error(...args: unknown[]): void;
}

function text(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Error) return v.stack ?? v.message;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * Create a logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * createLogger({ level: "warn" }).warn("raw queue overflow");
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const json = options.format === "json";
  const write = options.write ?? ((line: string) => console.error(line));
  const emit = (level: LogLevel, args: unknown[]) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const time = new Date().toISOString();
    if (json) write(JSON.stringify({ time, level, msg: args.map(text).join(" ") }));
    else write(`${time} ${level.toUpperCase().padEnd(5)} ${args.map(text).join(" ")}`);
  };
  return {
    debug: (...a) => emit("debug", a),
    info: (...a) => emit("info", a),
    warn: (...a) => emit("warn", a),
    error: (...a) => emit("error", a),
  };
}
