import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type LogFormat = 'text' | 'json';

export type { Logger } from 'pino';

export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
  /** Append to this file instead of standard error. */
  file?: string | undefined;
  hostname?: string | undefined;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];

/** `-v` once per step: each makes the level one more verbose, down to debug. */
export function moreVerbose(level: LogLevel, steps: number): LogLevel {
  return LEVELS[Math.max(0, LEVELS.indexOf(level) - steps)] ?? 'debug';
}

/** Fields never written as they are: tokens and credentials. */
export const REDACTED_PATHS = ['token', '*.token', 'password', '*.password', 'authorization', '*.authorization', 'req.headers.authorization'];

/**
 * Structured logs with pino. `json`: one object per line for log shippers. `text`: one readable line per
 * record (time, level, message, then the fields), for people.
 */
export function createLogger(options: LogOptions): Logger {
  const destination = options.file === undefined ? 2 : options.file;
  const base = options.hostname === undefined ? {} : { host: options.hostname };
  const common = { level: options.level, base, redact: REDACTED_PATHS };
  if (options.format === 'json') {
    return pino(
      { ...common, timestamp: pino.stdTimeFunctions.isoTime },
      pino.destination({ dest: destination, sync: true, mkdir: true, append: true }),
    );
  }
  return pino(
    common,
    pretty({
      colorize: false,
      sync: true,
      destination: typeof destination === 'number' ? destination : pino.destination({ dest: destination, sync: true, mkdir: true, append: true }),
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname,host',
      singleLine: true,
    }),
  );
}
