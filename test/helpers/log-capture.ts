import pino from 'pino';
import type { Logger } from '../../src/log.js';

/** One pino record: its level name, message and fields. */
export type LogRecord = Record<string, unknown> & { level: string; msg: string };

/** A real pino logger (debug and up) whose records are kept in memory for assertions. */
export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = pino(
    { level: 'debug', base: {}, formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => records.push(JSON.parse(line) as LogRecord) },
  );
  return { logger, records };
}
