import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

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

/** Control characters (newlines, escapes, C1, line separators) as visible `\uXXXX` escapes. */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is escaped
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Fields never written as they are: tokens and credentials. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
];

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
    // pino-pretty prints the error key's field on lines of its own: keep it off `err`, our one-line field.
    { ...common, errorKey: 'error_object' },
    prettyOnFirstLine({
      colorize: false,
      sync: true,
      destination:
        typeof destination === 'number' ? destination : pino.destination({ dest: destination, sync: true, mkdir: true, append: true }),
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname,host',
      singleLine: true,
      errorLikeObjectKeys: [],
      // One record, one line: a container's name, command line or a check's reason may hold newlines or
      // terminal escapes, which must not forge lines or recolour the terminal. JSON escapes them itself.
      messageFormat: (log, messageKey) => {
        const message = log[messageKey];
        return escapeControl(typeof message === 'string' ? message : JSON.stringify(message ?? ''));
      },
    }),
  );
}

const require = createRequire(import.meta.url);

/**
 * pino-pretty's stream, made at the first line written: a run that logs nothing (a quiet `check`) never
 * loads the formatter and its dependencies. pino-pretty is CommonJS, so it loads synchronously, in order.
 */
function prettyOnFirstLine(options: PrettyOptions): DestinationStream {
  let stream: DestinationStream | undefined;
  return {
    write(line: string): void {
      stream ??= (require('pino-pretty') as (options: PrettyOptions) => DestinationStream)(options);
      stream.write(line);
    },
  };
}
